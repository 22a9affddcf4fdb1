import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { outsideMinuteBoundary } from "../support/rate-windows.js";

const LIMIT = 4;
const SESSIONS = "/api/v1/ssh/collect/sessions/";
const QUERY = { query: "{ collectSessions(first: 1) { totalCount } }" };

describe.each(databaseKinds())("RATE_LIMIT_PER_MINUTE on REST and GraphQL on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind, { RATE_LIMIT_PER_MINUTE: String(LIMIT) });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  /** A project of its own, so each test starts with a full allowance. */
  const freshKey = async (name: string) => (await gateway.services.apiKeys.createProject(name)).apiKey.key;

  it("answers the request past the limit with 429 problem+json and Retry-After", async () => {
    const apiKey = await freshKey("rest-limited");
    await outsideMinuteBoundary();
    for (let request = 0; request < LIMIT; request++) {
      expect((await gateway.request("GET", SESSIONS, { apiKey })).status).toBe(200);
    }
    const limited = await gateway.request("GET", SESSIONS, { apiKey });
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toContain("application/problem+json");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.json).toMatchObject({
      status: 429,
      title: "Too Many Requests",
      detail: `rate limit of ${LIMIT} requests per minute exceeded; retry in ${retryAfter} s`,
    });
  });

  it("answers GraphQL past the limit with RATE_LIMITED, HTTP 429 and Retry-After", async () => {
    const apiKey = await freshKey("graphql-limited");
    await outsideMinuteBoundary();
    for (let request = 0; request < LIMIT; request++) {
      const response = await gateway.request("POST", "/graphql", { apiKey, body: QUERY });
      expect(response.json.errors, response.text).toBeUndefined();
    }
    const limited = await gateway.request("POST", "/graphql", { apiKey, body: QUERY });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.json.errors).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "RATE_LIMITED", retryAfter: expect.any(Number) }) }),
    ]);
    expect(limited.json.data).toBeUndefined();
  });

  it("counts REST and GraphQL requests of a project against one allowance", async () => {
    const apiKey = await freshKey("shared-allowance");
    await outsideMinuteBoundary();
    for (let request = 0; request < LIMIT / 2; request++) {
      expect((await gateway.request("GET", SESSIONS, { apiKey })).status).toBe(200);
      expect((await gateway.request("POST", "/graphql", { apiKey, body: QUERY })).status).toBe(200);
    }
    expect((await gateway.request("GET", SESSIONS, { apiKey })).status).toBe(429);
    expect((await gateway.request("POST", "/graphql", { apiKey, body: QUERY })).status).toBe(429);
  });

  it("limits each project on its own, and never requests without a valid API key", async () => {
    const limitedKey = await freshKey("busy");
    const otherKey = await freshKey("quiet");
    await outsideMinuteBoundary();
    for (let request = 0; request <= LIMIT; request++) await gateway.request("GET", SESSIONS, { apiKey: limitedKey });
    expect((await gateway.request("GET", SESSIONS, { apiKey: limitedKey })).status).toBe(429);
    expect((await gateway.request("GET", SESSIONS, { apiKey: otherKey })).status).toBe(200);
    expect((await gateway.request("GET", SESSIONS, { apiKey: "svk_not-a-key" })).status).toBe(401);
  });

  it("leaves /healthz, /readyz and /metrics outside the limit", async () => {
    for (let request = 0; request <= LIMIT * 2; request++) {
      for (const path of ["/healthz", "/readyz", "/metrics"]) {
        expect((await gateway.request("GET", path, { apiKey: null })).status).toBe(200);
      }
    }
  });
});

describe("RATE_LIMIT_PER_MINUTE=0", () => {
  it("never limits", async () => {
    const gateway = await startTestGateway("sqlite");
    try {
      for (let request = 0; request < 30; request++) {
        expect((await gateway.request("GET", SESSIONS)).status).toBe(200);
      }
    } finally {
      await gateway.stop();
    }
  });
});
