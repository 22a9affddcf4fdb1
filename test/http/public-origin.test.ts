import { afterEach, describe, expect, it } from "vitest";
import { sendRequest } from "../support/gateway.js";
import { type LoggedGateway, startLoggedGateway } from "../support/logged-gateway.js";

const SESSIONS = "/api/v1/ssh/collect/sessions/";

describe("PUBLIC_URL and TRUSTED_PROXIES", () => {
  let started: LoggedGateway | undefined;
  afterEach(async () => {
    await started?.close();
    started = undefined;
  });

  const get = (path: string, headers: Record<string, string> = {}) => {
    const { gateway, apiKey } = started as LoggedGateway;
    return sendRequest(gateway.httpUrl, apiKey, "GET", path, { headers });
  };
  const requestLine = (requestId: string) =>
    (started as LoggedGateway).lines.find((line) => line.requestId === requestId && line.msg === "request");

  it("puts PUBLIC_URL in $schema URLs whatever the request's host and forwarded headers say", async () => {
    started = await startLoggedGateway({ PUBLIC_URL: "https://verify.example.com", TRUSTED_PROXIES: "127.0.0.1" });
    const response = await get(SESSIONS, { "x-forwarded-host": "other.example", "x-forwarded-proto": "http" });
    expect(response.json.$schema).toBe("https://verify.example.com/schemas/CollectSessionList.json");
  });

  it("takes the origin and the client IP from a trusted proxy's X-Forwarded-* headers", async () => {
    started = await startLoggedGateway({ TRUSTED_PROXIES: "127.0.0.0/8" });
    const response = await get(SESSIONS, {
      "x-forwarded-for": "203.0.113.50, 127.0.0.2",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "api.example.com",
      "x-request-id": "via-proxy",
    });
    expect(response.json.$schema).toBe("https://api.example.com/schemas/CollectSessionList.json");
    expect(requestLine("via-proxy")).toMatchObject({ ip: "203.0.113.50", status: 200 });
  });

  it("ignores X-Forwarded-* from a peer outside TRUSTED_PROXIES", async () => {
    started = await startLoggedGateway({ TRUSTED_PROXIES: "10.0.0.0/8" });
    const response = await get(SESSIONS, {
      "x-forwarded-for": "203.0.113.50",
      "x-forwarded-proto": "https",
      "x-forwarded-host": "api.example.com",
      "x-request-id": "direct",
    });
    expect(response.json.$schema).toBe(`${started.gateway.httpUrl}/schemas/CollectSessionList.json`);
    expect(requestLine("direct")).toMatchObject({ ip: "127.0.0.1" });
  });

  it("never logs the API key or a webhook secret of a request", async () => {
    started = await startLoggedGateway({});
    const { gateway, apiKey } = started;
    const created = await sendRequest(gateway.httpUrl, apiKey, "POST", SESSIONS, {
      body: { webhooks: [{ url: "http://127.0.0.1:9/hook" }] },
      headers: { "x-request-id": "with-secrets" },
    });
    const secret = created.json.webhooks[0].secret;
    expect(secret).toEqual(expect.any(String));
    const written = JSON.stringify(started.lines);
    expect(requestLine("with-secrets")).toMatchObject({ status: 201 });
    expect(written).not.toContain(apiKey);
    expect(written).not.toContain(secret);
  });
});
