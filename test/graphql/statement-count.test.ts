import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphqlData } from "./support/graphql-client.js";
import { ed25519KeyLine, recordConnection } from "../support/ssh-activity.js";

const PAGE_WITH_PARTS = `query($first: Int!, $after: String) {
  verifySessions(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { node {
      id status sshCommand
      keys { id name publicKeySsh }
      connections { id ipAddress keys { id name sessionKeyId publicKeySha256 } }
    } }
  }
}`;

describe.each(databaseKinds())("SQL statements of a GraphQL page on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    const caller: RequestContext = await gateway.services.apiKeys.authenticate(gateway.apiKey);
    for (let index = 0; index < 100; index++) {
      const lines = [ed25519KeyLine(), ed25519KeyLine()];
      const session = await gateway.services.sessions.create(caller, "verify", {
        keys: lines.map((publicKey, position) => ({ publicKey, name: `key ${position}` })),
        multiConnection: true,
      });
      await recordConnection(gateway.services, session.id, [{ keyLine: lines[1], sessionKeyId: session.keys[1].id }]);
    }
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /**
   * Statements one request costs. Background workers (outbox poll, expiry sweep) share the counter, so the
   * fewest over a few runs is the request's own count: their statements can only add to it.
   */
  const statementsFor = async (first: number, after: string | null = null) => {
    const counts: number[] = [];
    for (let run = 0; run < 5; run++) {
      const before = gateway.services.database.statements.count;
      const data = await graphqlData(gateway, PAGE_WITH_PARTS, { first, after });
      counts.push(gateway.services.database.statements.count - before);
      expect(data.verifySessions.edges).toHaveLength(first);
      for (const { node } of data.verifySessions.edges) {
        expect(node.keys).toHaveLength(2);
        expect(node.connections[0].keys).toEqual([expect.objectContaining({ name: "key 1", sessionKeyId: node.keys[1].id })]);
      }
    }
    return Math.min(...counts);
  };

  it("costs the same six statements for pages of 10 and of 100 with keys, connections and connection keys", async () => {
    // API key, page, count, configured keys, connections, connection keys.
    expect(await statementsFor(10)).toBe(6);
    expect(await statementsFor(100)).toBe(6);
  });

  it("costs the same after a cursor, hasPreviousPage included", async () => {
    const first = await graphqlData(gateway, PAGE_WITH_PARTS, { first: 10 });
    expect(await statementsFor(10, first.verifySessions.pageInfo.endCursor)).toBe(6);
  });

  it("looks up many sessions by id in one batch, however many aliases ask", async () => {
    const page = await graphqlData(gateway, `{ verifySessions(first: 20) { edges { node { id } } } }`);
    const ids: string[] = page.verifySessions.edges.map((edge: { node: { id: string } }) => edge.node.id);
    const query = `{ ${ids.map((id, index) => `s${index}: verifySession(id: "${id}") { id keys { id } } n${index}: node(id: "${id}") { id }`).join(" ")} }`;
    const counts: number[] = [];
    for (let run = 0; run < 3; run++) {
      const before = gateway.services.database.statements.count;
      const data = await graphqlData(gateway, query);
      counts.push(gateway.services.database.statements.count - before);
      expect(data[`s${ids.length - 1}`].keys).toHaveLength(2);
    }
    // API key, the sessions, and their four parts (a lookup loads the whole detail).
    expect(Math.min(...counts)).toBe(6);
  });
});
