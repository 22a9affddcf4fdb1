import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newWebhookSecret } from "../../src/services/sessions.service.js";
import { signatureHeaders } from "../../src/webhooks/webhook-signature.js";

describe("webhook signatures (Standard Webhooks)", () => {
  const body = JSON.stringify({ event: "verified", payload: { verify_session_id: "s1" } });

  it("produces webhook-id, webhook-timestamp and webhook-signature that the standardwebhooks package accepts", () => {
    const secret = newWebhookSecret();
    const headers = signatureHeaders(secret, "invocation-1", new Date(), body);
    expect(headers["webhook-id"]).toBe("invocation-1");
    expect(headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it("signs the exact body: a changed body, id or secret does not verify", () => {
    const secret = newWebhookSecret();
    const headers = signatureHeaders(secret, "invocation-1", new Date(), body);
    expect(() => new Webhook(secret).verify(body.replace("s1", "s2"), { ...headers })).toThrow();
    expect(() => new Webhook(secret).verify(body, { ...headers, "webhook-id": "invocation-2" })).toThrow();
    expect(() => new Webhook(newWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it("uses the send time in seconds as the timestamp", () => {
    const headers = signatureHeaders(newWebhookSecret(), "id", new Date("2030-01-02T03:04:05.678Z"), body);
    expect(headers["webhook-timestamp"]).toBe(String(Date.UTC(2030, 0, 2, 3, 4, 5) / 1000));
  });
});
