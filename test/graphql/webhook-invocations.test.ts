import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookInvocation } from "../../src/db/entities/index.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { waitFor } from "../support/wait-for.js";
import { settled, waitForInvocations } from "../webhooks/support/invocations.js";
import { WebhookReceiver } from "../webhooks/support/webhook-receiver.js";
import { connectTimes, restInvocationIds } from "./support/invocation-fixtures.js";
import { graphql, graphqlData } from "./support/graphql-client.js";

interface InvocationPage {
  totalCount: number;
  edges: Array<{ cursor: string; node: any }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

const INVOCATIONS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  collectSession(id: $id) {
    webhooks {
      id url
      invocations(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node {
          id webhookId sessionId event status triggerTime nextAttemptAt
          attempts { attempt requestTime responseStatus responseBody error }
        } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}`;

const CREATE = `mutation($input: CreateCollectSessionInput!) { createCollectSession(input: $input) { id webhooks { id } } }`;

describe.each(databaseKinds())("Webhook.invocations over GraphQL on %s", (kind) => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver;
  let caller: RequestContext;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    receiver = await WebhookReceiver.start((request) => (request.path === "/refused" ? { status: 500, body: "not today" } : { status: 204 }));
    caller = await gateway.services.apiKeys.authenticate(gateway.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  /** A multi-connection collect session with webhooks to the receiver at these paths. */
  const createSession = async (paths: string[], externalId?: string): Promise<{ id: string; webhooks: Array<{ id: string }> }> => {
    const input = { multiConnection: true, multiKey: true, externalId, webhooks: paths.map((path) => ({ url: receiver.url(path) })) };
    return (await graphqlData(gateway, CREATE, { input })).createCollectSession;
  };
  const connect = (sessionId: string, times: number, keysEach = 0) => connectTimes(gateway, sessionId, times, keysEach);
  const restIds = (sessionId: string, webhookId: string) => restInvocationIds(gateway, sessionId, webhookId);
  const webhooksOf = async (sessionId: string, variables: Record<string, unknown> = {}) =>
    (await graphqlData(gateway, INVOCATIONS, { id: sessionId, ...variables })).collectSession.webhooks as Array<{
      id: string;
      url: string;
      invocations: InvocationPage;
    }>;
  const ids = (page: InvocationPage) => page.edges.map((edge) => edge.node.id as string);
  /** A session with one webhook and `connections` of `keysEach` keys; its pages, and its invocations in REST's order. */
  const pagedWebhook = async (path: string, connections: number, keysEach: number) => {
    const session = await createSession([path]);
    await connect(session.id, connections, keysEach);
    const page = async (variables: Record<string, unknown>) => (await webhooksOf(session.id, variables))[0].invocations;
    const listed = () => restIds(session.id, session.webhooks[0].id);
    return { session, page, listed, originals: await listed() };
  };
  /** As the retention purge deletes finished invocations; the API itself deletes them only with their webhook. */
  const deleteInvocation = (id: string) => gateway.services.database.transaction(({ manager }) => manager.delete(WebhookInvocation, { id }));

  it("lists a webhook's invocations after real deliveries, newest first with their attempts, as REST lists them", async () => {
    const session = await createSession(["/delivered", "/refused"]);
    await connect(session.id, 2);
    await graphqlData(gateway, "mutation($id: ID!) { completeCollectSession(id: $id) { status } }", { id: session.id });
    for (const webhook of session.webhooks) {
      await waitForInvocations(gateway, caller, webhook.id, (items) => items.length === 3 && items.every(settled));
    }
    const [delivered, refused] = await webhooksOf(session.id);
    expect([delivered.url, refused.url]).toEqual([receiver.url("/delivered"), receiver.url("/refused")]);

    const edges = delivered.invocations.edges;
    expect(edges.map((edge) => edge.node.event)).toEqual(["STATUS_CHANGED", "NEW_CONNECTION", "NEW_CONNECTION"]);
    expect(ids(delivered.invocations)).toEqual(await restIds(session.id, delivered.id));
    expect(delivered.invocations).toMatchObject({
      totalCount: 3,
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: edges[0].cursor, endCursor: edges[2].cursor },
    });
    for (const { node } of edges) {
      const [sent] = receiver.forInvocation(node.id);
      expect(sent.path).toBe("/delivered");
      expect(node).toEqual({
        id: node.id,
        webhookId: delivered.id,
        sessionId: session.id,
        event: node.event,
        status: "SUCCEEDED",
        triggerTime: new Date(sent.json.trigger_time).toISOString(),
        nextAttemptAt: null,
        attempts: [{ attempt: 1, requestTime: new Date(sent.json.request_time).toISOString(), responseStatus: 204, responseBody: "", error: null }],
      });
    }
    expect(refused.invocations.totalCount).toBe(3);
    for (const { node } of refused.invocations.edges) {
      expect(node).toMatchObject({
        webhookId: refused.id,
        status: "FAILED",
        attempts: [{ attempt: 1, responseStatus: 500, responseBody: "not today", error: "expected a 2xx status, got 500" }],
      });
    }
  });

  it("pages forward with first/after, exact while invocations are added and deleted, the cursor's own included", async () => {
    const { session, page, originals } = await pagedWebhook("/forward", 4, 3);
    expect(originals).toHaveLength(16);
    expect(ids(await page({}))).toEqual(originals);

    const first = await page({ first: 5 });
    expect(ids(first)).toEqual(originals.slice(0, 5));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, endCursor: first.edges[4].cursor });
    // Newer invocations land before the walk; the cursor's own row and one further on disappear.
    await connect(session.id, 2);
    await deleteInvocation(originals[4]);
    await deleteInvocation(originals[7]);
    const second = await page({ first: 5, after: first.pageInfo.endCursor });
    expect(ids(second)).toEqual([originals[5], originals[6], originals[8], originals[9], originals[10]]);
    expect(second.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const third = await page({ first: 5, after: second.pageInfo.endCursor });
    expect(ids(third)).toEqual(originals.slice(11, 16));
    expect(third.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(third.totalCount).toBe(16 + 2 - 2);
  });

  it("pages backward with last/before from the oldest, ending at the newest there is", async () => {
    const { session, page, listed, originals } = await pagedWebhook("/backward", 3, 2);
    expect(originals).toHaveLength(9);

    const seen: string[] = [];
    let result = await page({ last: 4 });
    expect(ids(result)).toEqual(originals.slice(5));
    expect(result.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true, startCursor: result.edges[0].cursor });
    let inserted = false;
    while (result.pageInfo.hasPreviousPage) {
      seen.unshift(...ids(result));
      if (!inserted) {
        await connect(session.id, 3);
        await deleteInvocation(originals[1]);
        inserted = true;
      }
      result = await page({ last: 4, before: result.pageInfo.startCursor });
      expect(result.pageInfo.hasNextPage).toBe(true);
    }
    seen.unshift(...ids(result));
    const now = await listed();
    expect(now).toHaveLength(9 + 3 - 1);
    expect(seen).toEqual(now);
    expect(seen).not.toContain(originals[1]);
    expect(seen.slice(3)).toEqual(originals.filter((id) => id !== originals[1]));
  });

  it("defaults to pages of 100 and gives first: 0 an empty page", async () => {
    const session = await createSession(["/many"]);
    await connect(session.id, 101);
    const [{ invocations }] = await webhooksOf(session.id);
    expect(invocations.edges).toHaveLength(100);
    expect(invocations).toMatchObject({ totalCount: 101, pageInfo: { hasNextPage: true, hasPreviousPage: false } });
    const [{ invocations: empty }] = await webhooksOf(session.id, { first: 0 });
    expect(empty).toMatchObject({ edges: [], pageInfo: { hasNextPage: true, startCursor: null, endCursor: null } });
  });

  it.each([
    [{ first: 101 }, "first", "expected integer between 0 and 100"],
    [{ first: -1 }, "first", "expected integer between 0 and 100"],
    [{ last: 101 }, "last", "expected integer between 0 and 100"],
    [{ after: "bm90IGEgY3Vyc29y" }, "after", "expected a cursor from this connection"],
    [{ first: 2, before: "bm90IGEgY3Vyc29y" }, "before", "cannot be combined with first or after"],
  ])("refuses %j with BAD_USER_INPUT at %s", async (variables, location, message) => {
    const session = await createSession(["/arguments"]);
    const result = await graphql(gateway, INVOCATIONS, { id: session.id, ...variables });
    expect(result.data).toEqual({ collectSession: null });
    expect(result.errors).toEqual([
      expect.objectContaining({
        path: ["collectSession", "webhooks", 0, "invocations"],
        extensions: { code: "BAD_USER_INPUT", errors: [{ location, message, value: Object.values(variables).at(-1) }] },
      }),
    ]);
  });

  it("never shows another project's webhook or its invocations", async () => {
    const other = await gateway.services.apiKeys.createProject("invocations-other");
    const them = await gateway.services.apiKeys.authenticate(other.apiKey.key);
    const theirs = await gateway.services.sessions.create(them, "collect", { multiConnection: true, webhooks: [{ url: receiver.url("/theirs") }] });
    const webhookId = theirs.webhooks[0].id;
    await connect(theirs.id, 2);
    // Their own key sees the two, so what follows is hidden, not missing.
    const asThem = await graphql(gateway, INVOCATIONS, { id: theirs.id }, { apiKey: other.apiKey.key });
    expect(asThem.data.collectSession.webhooks[0].invocations.totalCount).toBe(2);

    expect(await graphql(gateway, INVOCATIONS, { id: theirs.id })).toMatchObject({ data: { collectSession: null }, errors: undefined });
    const updated = await graphql(gateway, "mutation($id: ID!) { updateWebhook(id: $id, input: {}) { invocations { totalCount } } }", { id: webhookId });
    expect(updated.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    // What the DataLoaders call answers nothing for their webhook under our key, even when asked for it by id.
    const request = { direction: "older", from: null, count: 100 } as const;
    expect((await gateway.services.webhooks.invocationPages(caller, [webhookId], request)).get(webhookId)).toEqual({ items: [], hasMore: false });
    expect((await gateway.services.webhooks.countInvocations(caller, [webhookId])).get(webhookId)).toBeUndefined();
    expect((await gateway.services.webhooks.invocationPages(them, [webhookId], request)).get(webhookId)?.items).toHaveLength(2);
  });

  describe("a cursor pages only the invocations of the webhook it came from", () => {
    const REFUSED = "expected a cursor from this connection";
    /** A new session with one webhook and two invocations, and the cursor of that webhook's newest invocation. */
    const cursorOfNewWebhook = async (path: string) => {
      const session = await createSession([path]);
      await connect(session.id, 2);
      const [{ invocations }] = await webhooksOf(session.id, { first: 1 });
      return { session, cursor: invocations.pageInfo.endCursor as string };
    };
    const refusal = (location: string, value: unknown, path: Array<string | number>) =>
      expect.objectContaining({ message: `${location}: ${REFUSED}`, path, extensions: { code: "BAD_USER_INPUT", errors: [{ location, message: REFUSED, value }] } });

    it("refuses another session's webhook's cursor, either way, with the error of a text that is no cursor", async () => {
      const mine = await cursorOfNewWebhook("/mine");
      const yours = await cursorOfNewWebhook("/yours");
      for (const [session, cursor] of [[mine.session, yours.cursor], [yours.session, mine.cursor]] as const) {
        for (const variables of [{ first: 5, after: cursor }, { last: 5, before: cursor }]) {
          const location = "after" in variables ? "after" : "before";
          const result = await graphql(gateway, INVOCATIONS, { id: session.id, ...variables });
          expect(result.data).toEqual({ collectSession: null });
          expect(result.errors).toEqual([refusal(location, cursor, ["collectSession", "webhooks", 0, "invocations"])]);
        }
      }
      // Each cursor still pages its own webhook.
      expect((await webhooksOf(mine.session.id, { first: 5, after: mine.cursor }))[0].invocations).toMatchObject({
        edges: [expect.anything()],
        pageInfo: { hasNextPage: false, hasPreviousPage: true },
      });
      expect((await webhooksOf(yours.session.id, { last: 5, before: yours.cursor }))[0].invocations).toMatchObject({
        edges: [],
        pageInfo: { hasNextPage: true, hasPreviousPage: false },
      });
    });

    it("refuses a webhook's cursor on the other webhook of its session, which shares the arguments", async () => {
      const session = await createSession(["/first-of-two", "/second-of-two"]);
      await connect(session.id, 2);
      const [first] = await webhooksOf(session.id, { first: 1 });
      const after = first.invocations.pageInfo.endCursor;
      const result = await graphql(gateway, INVOCATIONS, { id: session.id, first: 5, after });
      expect(result.data).toEqual({ collectSession: null });
      expect(result.errors).toEqual([refusal("after", after, ["collectSession", "webhooks", 1, "invocations"])]);
    });

    it("refuses a session list's cursor on invocations and an invocations cursor on a session list", async () => {
      const { session, cursor } = await cursorOfNewWebhook("/lists");
      const sessions = await graphqlData(gateway, `{ collectSessions(first: 1) { pageInfo { endCursor } } }`);
      const sessionCursor = sessions.collectSessions.pageInfo.endCursor;
      const onInvocations = await graphql(gateway, INVOCATIONS, { id: session.id, after: sessionCursor });
      expect(onInvocations.errors).toEqual([refusal("after", sessionCursor, ["collectSession", "webhooks", 0, "invocations"])]);
      const onSessions = await graphql(gateway, `query($after: String) { collectSessions(after: $after) { totalCount } }`, { after: cursor });
      expect(onSessions).toMatchObject({ data: null, errors: [refusal("after", cursor, ["collectSessions"])] });
    });

    it("refuses another project's webhook's cursor as it refuses any text, and ours on theirs", async () => {
      const other = await gateway.services.apiKeys.createProject("invocation-cursors-other");
      const them = await gateway.services.apiKeys.authenticate(other.apiKey.key);
      const theirs = await gateway.services.sessions.create(them, "collect", { multiConnection: true, webhooks: [{ url: receiver.url("/their-cursor") }] });
      await connect(theirs.id, 2);
      const theirPage = await graphql(gateway, INVOCATIONS, { id: theirs.id, first: 1 }, { apiKey: other.apiKey.key });
      const theirCursor = theirPage.data.collectSession.webhooks[0].invocations.pageInfo.endCursor;
      const mine = await cursorOfNewWebhook("/our-cursor");

      const ours = await graphql(gateway, INVOCATIONS, { id: mine.session.id, after: theirCursor });
      expect(ours.errors).toEqual([refusal("after", theirCursor, ["collectSession", "webhooks", 0, "invocations"])]);
      const onTheirs = await graphql(gateway, INVOCATIONS, { id: theirs.id, after: mine.cursor }, { apiKey: other.apiKey.key });
      expect(onTheirs.errors).toEqual([refusal("after", mine.cursor, ["collectSession", "webhooks", 0, "invocations"])]);
      const theirNext = await graphql(gateway, INVOCATIONS, { id: theirs.id, after: theirCursor }, { apiKey: other.apiKey.key });
      expect(theirNext.data.collectSession.webhooks[0].invocations.edges).toHaveLength(1);
    });
  });

  describe("SQL statements of a page of sessions with their webhooks' invocations", () => {
    const PAGE = `query($first: Int!, $after: String, $externalId: String = "counted") {
      collectSessions(first: $first, filter: { externalId: $externalId }) {
        edges { node { id webhooks { id invocations(first: 10, after: $after) {
          totalCount
          pageInfo { hasNextPage hasPreviousPage endCursor }
          edges { cursor node { id event status attempts { attempt responseStatus } } }
        } } } }
      }
    }`;

    const everyInvocationDelivered = () =>
      waitFor("every invocation delivered", async () =>
        (await gateway.services.database.read((manager) => manager.countBy(WebhookInvocation, { status: "pending" }))) === 0,
        30_000,
      );

    beforeAll(async () => {
      for (let index = 0; index < 30; index++) {
        const session = await createSession(["/counted", "/counted"], "counted");
        await connect(session.id, 2);
      }
      // Deliveries finished, so the worker's statements stay out of the counts as much as they can.
      await everyInvocationDelivered();
    });

    /** The fewest statements over a few runs: the delivery worker and sweeper share the counter and can only add to it. */
    const statementsFor = async (variables: { first: number; after?: string; externalId?: string }, check: (page: any) => void) => {
      const counts: number[] = [];
      for (let run = 0; run < 5; run++) {
        const before = gateway.services.database.statements.count;
        const data = await graphqlData(gateway, PAGE, variables);
        counts.push(gateway.services.database.statements.count - before);
        check(data.collectSessions);
      }
      return Math.min(...counts);
    };

    it("costs the same six statements for 3 sessions as for 30, each with two webhooks and their invocations", async () => {
      const everyInvocation = (first: number) => (page: any) => {
        expect(page.edges).toHaveLength(first);
        for (const { node } of page.edges) {
          expect(node.webhooks).toHaveLength(2);
          for (const webhook of node.webhooks) {
            expect(webhook.invocations.totalCount).toBe(2);
            expect(webhook.invocations.edges.map((edge: any) => edge.node)).toEqual([
              expect.objectContaining({ event: "NEW_CONNECTION", status: "SUCCEEDED", attempts: [{ attempt: 1, responseStatus: 204 }] }),
              expect.objectContaining({ event: "NEW_CONNECTION", status: "SUCCEEDED", attempts: [{ attempt: 1, responseStatus: 204 }] }),
            ]);
          }
        }
      };
      // API key, sessions, webhooks, invocation pages, their attempts, invocation counts.
      expect(await statementsFor({ first: 3 }, everyInvocation(3))).toBe(6);
      expect(await statementsFor({ first: 30 }, everyInvocation(30))).toBe(6);
    });

    it("refuses one webhook's cursor on every other webhook of the page", async () => {
      const [{ node: newest }] = (await graphqlData(gateway, PAGE, { first: 1 })).collectSessions.edges;
      const after = newest.webhooks[0].invocations.edges[0].cursor;
      const result = await graphql(gateway, PAGE, { first: 3, after });
      // The first refusal nulls the whole list (every field up to it is non-null), so it may be the only one reported.
      expect(result.data).toBeNull();
      expect(result.errors?.length).toBeGreaterThanOrEqual(1);
      // Every webhook but the cursor's own: the newest session's first.
      expect(result.errors?.map((error) => error.path)).not.toContainEqual(["collectSessions", "edges", 0, "node", "webhooks", 0, "invocations"]);
      for (const error of result.errors ?? []) {
        expect(error.extensions).toEqual({ code: "BAD_USER_INPUT", errors: [{ location: "after", message: "expected a cursor from this connection", value: after }] });
      }
    });

    it("costs the same six after the webhook's own cursor, and one more for hasPreviousPage once the cursor's row is gone", async () => {
      const session = await createSession(["/counted-alone"], "counted-alone");
      await connect(session.id, 3);
      await everyInvocationDelivered();
      const alone = { first: 1, externalId: "counted-alone" };
      const [{ node }] = (await graphqlData(gateway, PAGE, alone)).collectSessions.edges;
      const [, middle, oldest] = node.webhooks[0].invocations.edges;
      const behindCursor = (page: any) => {
        const [{ invocations }] = page.edges[0].node.webhooks;
        expect(invocations).toMatchObject({ edges: [{ node: { id: oldest.node.id } }], pageInfo: { hasPreviousPage: true } });
      };
      // The cursor's own row comes back with the page and proves what lies behind it.
      expect(await statementsFor({ ...alone, after: middle.cursor }, behindCursor)).toBe(6);
      await deleteInvocation(middle.node.id);
      expect(await statementsFor({ ...alone, after: middle.cursor }, behindCursor)).toBe(7);
    });
  });
});
