import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookInvocation } from "../../src/db/entities/index.js";
import { newId } from "../../src/domain/ids.js";
import { MAX_QUERY_COST, MAX_QUERY_DEPTH } from "../../src/graphql/query-limits.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { waitFor } from "../support/wait-for.js";
import { WebhookReceiver } from "../webhooks/support/webhook-receiver.js";
import { connectTimes, restInvocationIds } from "./support/invocation-fixtures.js";
import { fewestStatements, graphql, graphqlData } from "./support/graphql-client.js";

const WEBHOOK_FIELDS = `id sessionId url method headers { name values } events retries initialBackoff backoffMultiplier secret createdAt updatedAt`;

const NODE = `query($id: ID!) { node(id: $id) { __typename id ... on Webhook { ${WEBHOOK_FIELDS} } } }`;

const NODE_INVOCATIONS = `query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  node(id: $id) {
    ... on Webhook {
      invocations(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { id webhookId sessionId event } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
}`;

const SESSION_INVOCATIONS = `query($id: ID!, $first: Int, $after: String) {
  collectSession(id: $id) { webhooks { id invocations(first: $first, after: $after) { edges { cursor node { id } } pageInfo { endCursor } } } }
}`;

const CREATE = `mutation($input: CreateCollectSessionInput!) { createCollectSession(input: $input) { id webhooks { id } } }`;

interface InvocationPage {
  totalCount: number;
  edges: Array<{ cursor: string; node: { id: string; webhookId: string; sessionId: string; event: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

describe.each(databaseKinds())("node(id) reaches one webhook on %s", (kind) => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver;
  let otherKey: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    receiver = await WebhookReceiver.start(() => ({ status: 204 }));
    otherKey = (await gateway.services.apiKeys.createProject("webhook-node-other")).apiKey.key;
  });
  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  /** A multi-connection collect session of the caller's project with these webhooks. */
  const createSession = async (webhooks: Array<Record<string, unknown>>): Promise<{ id: string; webhooks: Array<{ id: string }> }> =>
    (await graphqlData(gateway, CREATE, { input: { multiConnection: true, multiKey: true, webhooks } })).createCollectSession;
  const connect = (sessionId: string, times: number, keysEach = 0) => connectTimes(gateway, sessionId, times, keysEach);
  const restIds = (sessionId: string, webhookId: string) => restInvocationIds(gateway, sessionId, webhookId);
  const invocationsOf = async (id: string, variables: Record<string, unknown>): Promise<InvocationPage> =>
    (await graphqlData(gateway, NODE_INVOCATIONS, { id, ...variables })).node.invocations;
  const ids = (page: InvocationPage) => page.edges.map((edge) => edge.node.id);
  /** Deliveries finished, so the delivery worker's statements stay out of the counts as much as they can. */
  const everyInvocationDelivered = () =>
    waitFor(
      "every invocation delivered",
      async () => (await gateway.services.database.read((manager) => manager.countBy(WebhookInvocation, { status: "pending" }))) === 0,
      30_000,
    );
  const statementsOf = (query: string, variables: Record<string, unknown>, apiKey?: string) =>
    fewestStatements(gateway, query, variables, { apiKey, runs: 5 });

  it("resolves a webhook id of the caller's project to that Webhook, with the fields its session shows", async () => {
    const session = await createSession([
      { url: receiver.url("/plain") },
      {
        url: receiver.url("/tuned"),
        method: "PUT",
        headers: [{ name: "x-tenant", values: ["a", "b"] }],
        events: ["KEY_COLLECTED"],
        retries: 3,
        initialBackoff: 5,
        backoffMultiplier: 1.5,
      },
    ]);
    const tuned = session.webhooks[1].id;
    const { node } = await graphqlData(gateway, NODE, { id: tuned });
    const shown = await graphqlData(gateway, `query($id: ID!) { collectSession(id: $id) { webhooks { ${WEBHOOK_FIELDS} } } }`, { id: session.id });
    expect(node).toEqual({ __typename: "Webhook", ...shown.collectSession.webhooks[1] });
    expect(node).toMatchObject({
      id: tuned,
      sessionId: session.id,
      url: receiver.url("/tuned"),
      method: "PUT",
      headers: [{ name: "x-tenant", values: ["a", "b"] }],
      events: ["KEY_COLLECTED"],
      retries: 3,
      initialBackoff: 5,
      backoffMultiplier: 1.5,
      // The secret shows in the answer of the mutation that created the webhook only.
      secret: null,
    });
    expect((await graphqlData(gateway, NODE, { id: session.webhooks[0].id })).node).toMatchObject({ __typename: "Webhook", url: receiver.url("/plain") });
  });

  it("still resolves a session id to its session, in the statements collectSession(id) costs", async () => {
    const session = await createSession([{ url: receiver.url("/session") }]);
    const query = `query($id: ID!) { node(id: $id) { __typename id ... on CollectSession { status webhooks { id } } } }`;
    const { response, statements } = await statementsOf(query, { id: session.id });
    expect(response).toMatchObject({ data: { node: { __typename: "CollectSession", id: session.id, status: "PENDING", webhooks: session.webhooks } }, errors: undefined });
    const lookup = await statementsOf(`query($id: ID!) { collectSession(id: $id) { id webhooks { id } } }`, { id: session.id });
    expect(statements).toBe(lookup.statements);
  });

  it("reads another project's webhook id and an unknown id as null, without an error, in the same statements", async () => {
    const them = await gateway.services.apiKeys.authenticate(otherKey);
    const theirs = await gateway.services.sessions.create(them, "collect", { webhooks: [{ url: receiver.url("/theirs") }] });
    const theirWebhook = theirs.webhooks[0].id;
    // Their own key reaches it, so what follows is hidden, not missing.
    expect((await graphql(gateway, NODE, { id: theirWebhook }, { apiKey: otherKey })).data?.node).toMatchObject({ __typename: "Webhook", id: theirWebhook });

    const lookups = [];
    for (const id of [theirWebhook, newId(), "not-an-id", theirs.id]) {
      const { response, statements } = await statementsOf(NODE, { id });
      expect(response).toEqual({ status: 200, data: { node: null }, errors: undefined });
      lookups.push(statements);
    }
    // API key, the sessions by id, the webhooks by id: whether the id exists in another project changes nothing.
    expect(lookups).toEqual([3, 3, 3, 3]);
    const invocations = await graphql(gateway, NODE_INVOCATIONS, { id: theirWebhook, first: 1 });
    expect(invocations).toMatchObject({ data: { node: null }, errors: undefined });
  });

  describe("paging one webhook's invocations on a session with two webhooks", () => {
    let session: { id: string; webhooks: Array<{ id: string }> };
    let mine: string;
    let other: string;
    let listed: string[];

    beforeAll(async () => {
      session = await createSession([{ url: receiver.url("/paged") }, { url: receiver.url("/other") }]);
      [mine, other] = session.webhooks.map((webhook) => webhook.id);
      await connect(session.id, 3, 1);
      listed = await restIds(session.id, mine);
      await everyInvocationDelivered();
    });

    it("walks forward with first/after through node(id), then backward with last/before, the other webhook's invocations apart", async () => {
      expect(listed).toHaveLength(6);
      const otherIds = await restIds(session.id, other);
      expect(otherIds).toHaveLength(6);

      const forward: string[] = [];
      let page = await invocationsOf(mine, { first: 2 });
      expect(page.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
      for (;;) {
        expect(page.totalCount).toBe(6);
        expect(page.edges).toHaveLength(2);
        expect(page.edges.every((edge) => edge.node.webhookId === mine && edge.node.sessionId === session.id)).toBe(true);
        forward.push(...ids(page));
        if (!page.pageInfo.hasNextPage) break;
        page = await invocationsOf(mine, { first: 2, after: page.pageInfo.endCursor });
        expect(page.pageInfo.hasPreviousPage).toBe(true);
      }
      expect(forward).toEqual(listed);
      expect(forward.filter((id) => otherIds.includes(id))).toEqual([]);

      const backward: string[] = [];
      page = await invocationsOf(mine, { last: 4 });
      backward.unshift(...ids(page));
      while (page.pageInfo.hasPreviousPage) {
        page = await invocationsOf(mine, { last: 4, before: page.pageInfo.startCursor });
        backward.unshift(...ids(page));
      }
      expect(backward).toEqual(listed);
    });

    it("takes up a cursor of the same webhook from its session's list, and refuses it on the other webhook", async () => {
      const fromSession = await graphqlData(gateway, SESSION_INVOCATIONS, { id: session.id, first: 2 });
      const after = fromSession.collectSession.webhooks[0].invocations.pageInfo.endCursor;
      expect(ids(await invocationsOf(mine, { first: 2, after }))).toEqual(listed.slice(2, 4));

      const refused = await graphql(gateway, NODE_INVOCATIONS, { id: other, first: 2, after });
      // `invocations` is non-null, so its error nulls only the node: a nullable field, unlike the session's webhook list.
      expect(refused.data).toEqual({ node: null });
      expect(refused.errors).toEqual([
        expect.objectContaining({
          path: ["node", "invocations"],
          extensions: { code: "BAD_USER_INPUT", errors: [{ location: "after", message: "expected a cursor from this connection", value: after }] },
        }),
      ]);
    });

    it("looks several webhooks up in one batch and loads their pages together", async () => {
      const query = `query($mine: ID!, $other: ID!) {
        a: node(id: $mine) { ... on Webhook { invocations(first: 2) { edges { node { id attempts { attempt } } } } } }
        b: node(id: $other) { ... on Webhook { invocations(first: 2) { edges { node { id attempts { attempt } } } } } }
      }`;
      const { response, statements } = await statementsOf(query, { mine, other });
      expect(response.errors).toBeUndefined();
      expect(response.data.a.invocations.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual(listed.slice(0, 2));
      expect(response.data.b.invocations.edges).toHaveLength(2);
      // API key, the sessions by id (none), the webhooks by id, the invocation pages, their attempts.
      expect(statements).toBe(5);
    });
  });

  describe("query limits", () => {
    const aliases = (count: number, field: (index: number) => string) => `query($id: ID!, $n: Int) { ${Array.from({ length: count }, (_, index) => field(index)).join(" ")} }`;
    const throughNode = (index: number) => `a${index}: node(id: $id) { ... on Webhook { invocations(first: $n) { edges { node { id } } } } }`;
    const throughSession = (index: number) =>
      `a${index}: collectSession(id: $id) { webhooks { invocations(first: $n) { edges { node { id } } } } }`;

    it("prices invocations through node(id) as under a session: the page size times the selection", async () => {
      const id = newId();
      // 70 x (10 for node + 10 + 100 invocations x 3): over the limit, as under a session, which adds its webhook list.
      const viaNode = await statementsOf(aliases(70, throughNode), { id });
      expect(viaNode.response.status).toBe(400);
      expect(viaNode.response.errors).toEqual([
        expect.objectContaining({
          message: `query cost 22400 exceeds the limit of ${MAX_QUERY_COST}`,
          extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED", cost: 22400 }),
        }),
      ]);
      expect(viaNode.statements).toBe(0);
      const viaSession = await graphql(gateway, aliases(70, throughSession), { id });
      expect(viaSession.errors?.[0].message).toBe(`query cost 22470 exceeds the limit of ${MAX_QUERY_COST}`);
      // Ten invocations a webhook: 70 x (10 + 10 + 10 x 3) = 3,500.
      expect(await graphql(gateway, aliases(70, throughNode), { id, n: 10 })).toMatchObject({ status: 200, errors: undefined });
    });

    it(`counts node(id) and its fragment on Webhook towards the depth of ${MAX_QUERY_DEPTH}`, async () => {
      const wrapped = (levels: number) =>
        `query($id: ID!) { node(id: $id) { ${"... on Webhook { ".repeat(levels)}invocations(first: 1) { edges { node { attempts { error } } } }${" }".repeat(levels)} } }`;
      expect(await graphql(gateway, wrapped(4), { id: newId() })).toMatchObject({ status: 200, data: { node: null }, errors: undefined });
      const { response, statements } = await statementsOf(wrapped(5), { id: newId() });
      expect(response.status).toBe(400);
      expect(response.errors).toEqual([
        expect.objectContaining({
          message: `query nesting depth 11 exceeds the limit of ${MAX_QUERY_DEPTH}`,
          extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED", depth: 11, limit: MAX_QUERY_DEPTH }),
        }),
      ]);
      expect(statements).toBe(0);
    });
  });
});
