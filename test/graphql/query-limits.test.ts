import { getIntrospectionQuery } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_QUERY_COST, MAX_QUERY_DEPTH } from "../../src/graphql/query-limits.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { fewestStatements, graphql } from "./support/graphql-client.js";

const EVERY_FIELD = `
  id connectionIdentifier sshCommand status externalId matchAllKeys maxAttempts multiConnection multiKey
  mustConfirm sshBanner sshMessage expiredAt createdAt updatedAt
  keys { id name externalId publicKeyAlgorithm publicKeyMd5 publicKeyPem publicKeySha256 publicKeySsh verifiedAt createdAt }
  connections { id ipAddress clientVersion createdAt keys { id sessionKeyId name externalId publicKeyAlgorithm publicKeyMd5 publicKeyPem publicKeySha256 publicKeySsh verifiedAt createdAt } }
  webhooks { id url method headers { name values } events retries initialBackoff backoffMultiplier secret createdAt updatedAt }
`;

describe("depth and cost limits", () => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway("sqlite");
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const statementsOf = (query: string, variables: Record<string, unknown> = {}, apiKey?: string | null) =>
    fewestStatements(gateway, query, variables, { apiKey, runs: 3 });

  it("accepts a full page of 100 sessions with every field of the sessions, their keys, connections and webhooks", async () => {
    const result = await graphql(gateway, `{ verifySessions(first: 100) { totalCount edges { cursor node { ${EVERY_FIELD} } } } }`);
    expect(result.errors).toBeUndefined();
  });

  it("accepts the standard introspection query, whose nesting is not counted", async () => {
    const result = await graphql(gateway, getIntrospectionQuery());
    expect(result.errors).toBeUndefined();
    expect(result.data.__schema.queryType.name).toBe("Query");
  });

  it("accepts the deepest query the schema allows, through a fragment", async () => {
    const query = `fragment Delivered on VerifySession { webhooks { invocations(first: 10) { edges { node { attempts { error } } } } } }
      { verifySessions(first: 10) { edges { node { ...Delivered } } } }`;
    expect((await graphql(gateway, query)).errors).toBeUndefined();
  });

  it(`refuses selections nested deeper than ${MAX_QUERY_DEPTH} levels with a clear error and no SQL`, async () => {
    const wrap = (levels: number, inner: string) => `${"... on VerifySession { ".repeat(levels)}${inner}${" }".repeat(levels)}`;
    const { response, statements } = await statementsOf(`{ verifySessions { edges { node { ${wrap(1900, "id")} } } } }`);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([
      expect.objectContaining({
        message: `query nesting depth 1904 exceeds the limit of ${MAX_QUERY_DEPTH}`,
        extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED", depth: 1904, limit: MAX_QUERY_DEPTH }),
      }),
    ]);
    expect(statements).toBe(0);
    const justOver = await graphql(gateway, `{ verifySessions { edges { node { ${wrap(5, "connections { keys { id } }")} } } } }`);
    expect(justOver.errors?.[0].message).toBe(`query nesting depth 11 exceeds the limit of ${MAX_QUERY_DEPTH}`);
  });

  it("refuses a query text of more than 10,000 tokens while parsing", async () => {
    const { response, statements } = await statementsOf(`{ ${"__typename ".repeat(10_001)} }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]).toMatchObject({ extensions: { code: "GRAPHQL_PARSE_FAILED" } });
    expect(response.errors?.[0].message).toMatch(/^Syntax Error: Document contains more \w+ 10000 tokens/);
    expect(statements).toBe(0);
  });

  it("refuses hundreds of aliases by their cost with a clear error and no SQL", async () => {
    const aliases = Array.from({ length: 300 }, (_, index) => `a${index}: verifySessions(first: 100) { edges { node { id } } }`);
    const { response, statements } = await statementsOf(`{ ${aliases.join(" ")} }`);
    expect(response.status).toBe(400);
    expect(response.errors).toEqual([
      {
        message: expect.stringMatching(new RegExp(`^query cost \\d+ exceeds the limit of ${MAX_QUERY_COST}$`)),
        extensions: expect.objectContaining({ code: "GRAPHQL_VALIDATION_FAILED", limit: MAX_QUERY_COST }),
      },
    ]);
    expect(statements).toBe(0);
  });

  it("prices a connection by the page size in the variables", async () => {
    const query = `query($n: Int) { ${Array.from({ length: 40 }, (_, index) => `a${index}: verifySessions(first: $n) { edges { node { id keys { id } } } }`).join(" ")} }`;
    expect((await graphql(gateway, query, { n: 1 })).errors).toBeUndefined();
    const expensive = await graphql(gateway, query, { n: 100 });
    expect(expensive.errors?.[0].message).toMatch(/^query cost \d+ exceeds the limit/);
  });

  it("prices a webhook's invocations by their page size, once per session of the page around them", async () => {
    const query = `query($n: Int) { verifySessions(first: 100) { edges { node { webhooks { invocations(first: $n) { edges { node { id } } } } } } } }`;
    expect((await graphql(gateway, query, { n: 10 })).errors).toBeUndefined();
    // 10 + 100 sessions x (3 + 10 + 100 invocations x 3): over the limit, where 10 invocations a webhook are not.
    const expensive = await graphql(gateway, query, {});
    expect(expensive.errors?.[0].message).toBe(`query cost 31310 exceeds the limit of ${MAX_QUERY_COST}`);
  });

  it("refuses hundreds of aliased mutations by their cost", async () => {
    const mutations = Array.from({ length: 300 }, (_, index) => `m${index}: deleteVerifySession(id: "x${index}")`);
    const { response, statements } = await statementsOf(`mutation { ${mutations.join(" ")} }`);
    expect(response.errors?.[0].message).toMatch(/^query cost \d+ exceeds the limit/);
    expect(statements).toBe(0);
  });

  it("checks the limits before the API key: an abusive query without a key is refused for its shape", async () => {
    const aliases = Array.from({ length: 300 }, (_, index) => `a${index}: verifySessions { totalCount }`);
    const { response, statements } = await statementsOf(`{ ${aliases.join(" ")} }`, {}, null);
    expect(response.errors?.[0].extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(statements).toBe(0);
  });
});
