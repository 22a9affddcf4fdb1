import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";

const SESSIONS = "/api/v1/ssh/verify/sessions/";

/** The value of one sample line of the Prometheus text, e.g. `name{label="x"} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe.each(databaseKinds())("health, readiness and metrics on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers /healthz while the process is up, without an API key", async () => {
    const response = await gateway.request("GET", "/healthz", { apiKey: null });
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ status: "ok" });
  });

  it("answers /readyz with each dependency it checked: the database, and Redis when configured", async () => {
    const response = await gateway.request("GET", "/readyz", { apiKey: null });
    expect(response.status).toBe(200);
    const checks = process.env.TEST_REDIS_URL ? { database: "up", redis: "up" } : { database: "up" };
    expect(response.json).toEqual({ status: "ready", checks });
  });

  it("serves /metrics in the Prometheus text format with requests by route and status", async () => {
    await gateway.request("GET", SESSIONS);
    await gateway.request("GET", `${SESSIONS}00000000-0000-7000-8000-000000000000/`);
    await gateway.request("GET", SESSIONS, { apiKey: "svk_wrong" });
    const response = await gateway.request("GET", "/metrics", { apiKey: null });

    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const route = (path: string, status: number) => `sshverify_http_requests_total{method="GET",route="${path}",status="${status}"}`;
    expect(sample(response.text, route(SESSIONS, 200))).toBeGreaterThanOrEqual(1);
    expect(sample(response.text, route(SESSIONS, 401))).toBeGreaterThanOrEqual(1);
    expect(sample(response.text, route(`${SESSIONS}{session}/`, 404))).toBe(1);
    for (const family of ["ssh_connections_total", "verification_duration_seconds", "webhook_deliveries_total", "subscriptions_open"]) {
      expect(response.text).toContain(`# TYPE sshverify_${family} `);
    }
  });

  it("refuses other methods on /metrics", async () => {
    const response = await gateway.request("POST", "/metrics", { apiKey: null });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
  });

  it("echoes the caller's x-request-id and makes one up otherwise", async () => {
    const kept = await gateway.request("GET", "/healthz", { headers: { "x-request-id": "from-the-balancer-1" } });
    expect(kept.headers.get("x-request-id")).toBe("from-the-balancer-1");
    const made = await gateway.request("GET", SESSIONS);
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("readiness while Redis is unreachable", () => {
  it("answers /readyz 503 naming Redis as down, while /healthz stays 200", async () => {
    const gateway = await startTestGateway("sqlite", { REDIS_URL: "redis://127.0.0.1:1" });
    try {
      const ready = await gateway.request("GET", "/readyz", { apiKey: null });
      expect(ready.status).toBe(503);
      expect(ready.json).toEqual({ status: "unavailable", checks: { database: "up", redis: "down" } });
      expect((await gateway.request("GET", "/healthz", { apiKey: null })).status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});
