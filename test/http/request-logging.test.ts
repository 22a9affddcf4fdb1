import http from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import Koa from "koa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayMetrics } from "../../src/metrics.js";
import { requestIdOf, requestLogging, type RequestLogState } from "../../src/http/request-logging.js";
import { createLogger } from "../../src/logger.js";

/** Every JSON line the logger wrote. */
class CapturedLines extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) this.lines.push(JSON.parse(line));
    done();
  }
}

describe("request logging", () => {
  const captured = new CapturedLines();
  const metrics = new GatewayMetrics({ processMetrics: false });
  const server = http.createServer();
  let baseUrl: string;

  beforeAll(async () => {
    const app = new Koa();
    app.silent = true;
    app.use(requestLogging(createLogger("info", captured), metrics));
    app.use(async (context) => {
      const { logger, requestId } = context.state as RequestLogState;
      if (context.path === "/boom") throw new Error("handler broke");
      logger.info({ apiKey: "svk_secret-key", webhook: { url: "https://example.com", secret: "whsec_hidden" } }, "inside");
      context.body = { requestId };
    });
    server.on("request", app.callback());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const linesOf = (requestId: string) => captured.lines.filter((line) => line.requestId === requestId);

  it("keeps the caller's x-request-id, echoes it and puts it on every line of the request", async () => {
    const response = await fetch(`${baseUrl}/things?external_id=abc`, { headers: { "x-request-id": "trace-42.a:b" } });
    expect(response.headers.get("x-request-id")).toBe("trace-42.a:b");
    expect(await response.json()).toEqual({ requestId: "trace-42.a:b" });

    const lines = linesOf("trace-42.a:b");
    expect(lines.map((line) => line.msg)).toEqual(["inside", "request"]);
    expect(lines[1]).toMatchObject({ method: "GET", path: "/things", route: "unmatched", status: 200, ip: "127.0.0.1" });
    expect(typeof lines[1].durationMs).toBe("number");
  });

  it("generates a request id when none is sent, or when the one sent is not a plain token", async () => {
    for (const sent of [undefined, "has spaces", "x".repeat(129), "{\"json\":1}"]) {
      const response = await fetch(`${baseUrl}/`, { headers: sent === undefined ? {} : { "x-request-id": sent } });
      const echoed = response.headers.get("x-request-id");
      expect(echoed).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(linesOf(echoed as string)).toHaveLength(2);
    }
    expect(requestIdOf(["first-id", "second-id"])).toBe("first-id");
  });

  it("never writes headers, the query string, API keys or webhook secrets", async () => {
    await fetch(`${baseUrl}/sessions?api_key=svk_query-key`, {
      headers: { "x-request-id": "no-secrets", "x-api-key": "svk_header-key", authorization: "Bearer token-123" },
    });
    const written = JSON.stringify(linesOf("no-secrets"));
    for (const secret of ["svk_header-key", "svk_query-key", "svk_secret-key", "whsec_hidden", "token-123"]) {
      expect(written).not.toContain(secret);
    }
    expect(linesOf("no-secrets")[0]).toMatchObject({ apiKey: "[redacted]", webhook: { secret: "[redacted]" } });
  });

  it("logs a request that failed with status 500 at error level, and counts it", async () => {
    const response = await fetch(`${baseUrl}/boom`, { headers: { "x-request-id": "failing" } });
    expect(response.status).toBe(500);
    const [line] = linesOf("failing");
    expect(line).toMatchObject({ level: 50, status: 500, msg: "request failed", err: { message: "handler broke" } });
    expect(await metrics.render()).toContain('sshverify_http_requests_total{method="GET",route="unmatched",status="500"} 1');
  });
});
