import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphql, graphqlData } from "./support/graphql-client.js";
import { ed25519KeyLine } from "../support/ssh-activity.js";

interface Page {
  edges: Array<{ cursor: string; node: { id: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

const PAGE = `query Page($first: Int, $after: String, $last: Int, $before: String, $filter: VerifySessionFilter) {
  verifySessions(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

describe.each(databaseKinds())("paging verify sessions over GraphQL on %s", (kind) => {
  let gateway: TestGateway;
  let caller: RequestContext;
  const originals: string[] = [];
  const others: string[] = [];

  const createSession = async (externalId: string) =>
    (await gateway.services.sessions.create(caller, "verify", { keys: [{ publicKey: ed25519KeyLine() }], externalId })).id;

  const page = async (variables: Record<string, unknown>): Promise<Page> =>
    (await graphqlData<{ verifySessions: Page }>(gateway, PAGE, { filter: { externalId: "paged" }, ...variables })).verifySessions;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    caller = await gateway.services.apiKeys.authenticate(gateway.apiKey);
    // 250 originals, with 50 other sessions in between that get deleted while the pages are walked.
    for (let index = 0; index < 300; index++) {
      const id = await createSession("paged");
      (index % 6 === 5 ? others : originals).push(id);
    }
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const ids = (result: Page) => result.edges.map((edge) => edge.node.id);

  it("walks forward with first/after while sessions are inserted and deleted: every original exactly once", async () => {
    const seen: string[] = [];
    const deletable = [...others];
    let result = await page({ first: 20 });
    expect(result.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect(result.totalCount).toBe(300);
    for (;;) {
      seen.push(...ids(result));
      if (!result.pageInfo.hasNextPage) break;
      expect(result.pageInfo.endCursor).toBe(result.edges.at(-1)?.cursor);
      // Changes between pages: new sessions (newest first, so before the walk) and deletions on both sides.
      await createSession("paged");
      await createSession("paged");
      for (const id of deletable.splice(0, 2)) await gateway.services.sessions.delete(caller, "verify", id);
      for (const id of deletable.splice(-2, 2)) await gateway.services.sessions.delete(caller, "verify", id);
      result = await page({ first: 20, after: result.pageInfo.endCursor });
      expect(result.pageInfo.hasPreviousPage).toBe(true);
    }
    expect(result.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => originals.includes(id))).toEqual([...originals].reverse());
  });

  it("walks backward with last/before from the oldest while sessions are inserted and deleted", async () => {
    const survivors = (
      await Promise.all(others.map(async (id) => ((await gateway.services.sessions.find(caller, "verify", id)) ? id : null)))
    ).filter((id): id is string => id !== null);
    const seen: string[] = [];
    let result = await page({ last: 25 });
    expect(result.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(ids(result).at(-1)).toBe(originals[0]);
    for (;;) {
      seen.unshift(...ids(result));
      if (!result.pageInfo.hasPreviousPage) break;
      expect(result.pageInfo.startCursor).toBe(result.edges[0]?.cursor);
      await createSession("paged");
      const victim = survivors.shift();
      if (victim) await gateway.services.sessions.delete(caller, "verify", victim);
      result = await page({ last: 25, before: result.pageInfo.startCursor });
      expect(result.pageInfo.hasNextPage).toBe(true);
    }
    expect(result.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => originals.includes(id))).toEqual([...originals].reverse());
    // The walk ends at the newest session there is, including those inserted while it ran.
    expect(seen[0]).toBe(ids(await page({ first: 1 }))[0]);
  });

  it("goes on from a cursor whose session was deleted, and still knows what lies behind it", async () => {
    const first = await page({ first: 3 });
    const second = await page({ first: 3, after: first.pageInfo.endCursor });
    await gateway.services.sessions.delete(caller, "verify", second.edges[2].node.id);
    const third = await page({ first: 3, after: second.pageInfo.endCursor });
    expect(third.pageInfo.hasPreviousPage).toBe(true);
    const fromFirst = await page({ first: 5, after: first.pageInfo.endCursor });
    expect(ids(fromFirst)).toEqual([...ids(second).slice(0, 2), ...ids(third)]);
    const back = await page({ last: 2, before: second.pageInfo.endCursor });
    expect(ids(back)).toEqual(ids(second).slice(0, 2));
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
  });

  it("defaults to pages of 100 and accepts first: 0 with an empty page", async () => {
    const all = await page({});
    expect(all.edges).toHaveLength(100);
    expect(all.pageInfo.hasNextPage).toBe(true);
    const empty = await page({ first: 0 });
    expect(empty).toMatchObject({ edges: [], pageInfo: { hasNextPage: true, hasPreviousPage: false, startCursor: null, endCursor: null } });
  });

  it("reads an empty list as no edges, both flags false and null cursors", async () => {
    const empty = await page({ filter: { externalId: "nobody" } });
    expect(empty).toEqual({
      totalCount: 0,
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
    });
  });

  it.each([
    [{ first: 101 }, "first", "expected integer between 0 and 100"],
    [{ first: -1 }, "first", "expected integer between 0 and 100"],
    [{ last: 101 }, "last", "expected integer between 0 and 100"],
    [{ last: -5 }, "last", "expected integer between 0 and 100"],
    [{ after: "bm90IGEgY3Vyc29y" }, "after", "expected a cursor from this connection"],
    [{ before: "%%%" }, "before", "expected a cursor from this connection"],
    [{ first: 10, last: 10 }, "last", "cannot be combined with first or after"],
  ])("refuses %j with BAD_USER_INPUT at %s", async (variables, location, message) => {
    const result = await graphql(gateway, PAGE, variables);
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({
        path: ["verifySessions"],
        extensions: { code: "BAD_USER_INPUT", errors: [{ location, message, value: Object.values(variables).at(-1) }] },
      }),
    ]);
  });

  describe("a cursor pages only the list it came from", () => {
    /** The newest session's cursor of the list these variables name, as the key (the gateway's unless told) sees it. */
    const cursorOf = async (query: string, variables: Record<string, unknown>, apiKey?: string): Promise<string> => {
      const result = await graphql(gateway, query, { first: 1, ...variables }, { apiKey });
      expect(result.errors).toBeUndefined();
      const [connection] = Object.values(result.data as Record<string, Page>);
      return connection.pageInfo.endCursor as string;
    };
    const COLLECT_PAGE = `query($first: Int) { collectSessions(first: $first) { edges { cursor } pageInfo { endCursor } } }`;
    /** The very refusal a text that is no cursor at all gets, so a refused cursor tells nothing of its list. */
    const expectRefused = async (variables: Record<string, unknown>, location: "after" | "before", apiKey?: string) => {
      const result = await graphql(gateway, PAGE, { filter: { externalId: "paged" }, ...variables }, { apiKey });
      expect(result.data).toBeNull();
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: `${location}: expected a cursor from this connection`,
          path: ["verifySessions"],
          extensions: { code: "BAD_USER_INPUT", errors: [{ location, message: "expected a cursor from this connection", value: variables[location] }] },
        }),
      ]);
    };

    it("refuses a cursor of the same sessions under another filter, even one whose session is on this list", async () => {
      const unfiltered = await cursorOf(PAGE, { filter: null });
      const pending = await cursorOf(PAGE, { filter: { externalId: "paged", status: "PENDING" } });
      // The unfiltered list's newest session is a "paged" one, on the list it is refused on.
      expect(ids(await page({ first: 1 }))[0]).toBe(ids(await page({ first: 1, filter: null }))[0]);
      await expectRefused({ first: 5, after: unfiltered }, "after");
      await expectRefused({ last: 5, before: pending }, "before");
      // Each still pages its own list.
      expect((await page({ first: 5, after: unfiltered, filter: null })).edges).toHaveLength(5);
      expect((await page({ last: 5, before: pending, filter: { externalId: "paged", status: "PENDING" } })).pageInfo.hasNextPage).toBe(true);
    });

    it("refuses a collect sessions cursor on verify sessions, and the other way round", async () => {
      await gateway.services.sessions.create(caller, "collect", { externalId: "paged" });
      const collectCursor = await cursorOf(COLLECT_PAGE, {});
      await expectRefused({ first: 5, after: collectCursor }, "after");
      const verifyCursor = (await page({ first: 1 })).pageInfo.endCursor;
      const result = await graphql(gateway, `query($after: String) { collectSessions(after: $after) { totalCount } }`, { after: verifyCursor });
      expect(result.errors?.[0]).toMatchObject({
        path: ["collectSessions"],
        extensions: { code: "BAD_USER_INPUT", errors: [{ location: "after", message: "expected a cursor from this connection", value: verifyCursor }] },
      });
    });

    it("refuses another project's cursor as it refuses any text, and ours on theirs, the filter and the sessions' times alike", async () => {
      const other = await gateway.services.apiKeys.createProject("paging-other");
      const them = await gateway.services.apiKeys.authenticate(other.apiKey.key);
      await gateway.services.sessions.create(them, "verify", { keys: [{ publicKey: ed25519KeyLine() }], externalId: "paged" });
      const theirs = await cursorOf(PAGE, { filter: { externalId: "paged" } }, other.apiKey.key);
      const ours = (await page({ first: 1 })).pageInfo.endCursor as string;
      await expectRefused({ first: 5, after: theirs }, "after");
      await expectRefused({ first: 5, after: ours }, "after", other.apiKey.key);
      // Their cursor pages their list; ours pages ours, whichever of our keys asks.
      expect((await graphql(gateway, PAGE, { filter: { externalId: "paged" }, after: theirs }, { apiKey: other.apiKey.key })).data).toMatchObject({
        verifySessions: { edges: [] },
      });
      const secondKey = await gateway.services.apiKeys.createApiKey(caller.projectId, { name: "second key" });
      const withSecondKey = await graphql(gateway, PAGE, { filter: { externalId: "paged" }, first: 3, after: ours }, { apiKey: secondKey.key });
      expect(withSecondKey.errors).toBeUndefined();
      expect(withSecondKey.data.verifySessions.edges).toHaveLength(3);
    });
  });
});
