import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type DnsLookup, systemLookup } from "../../src/webhooks/address-guard.js";
import { type OutgoingWebhook, RESPONSE_BODY_LIMIT, type SenderOptions, sendWebhook } from "../../src/webhooks/webhook-sender.js";
import { signatureHeaders } from "../../src/webhooks/webhook-signature.js";
import { freePort } from "../support/processes.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const body = JSON.stringify({ event: "status_changed", attempt: 1 });

function outgoing(url: string, changes: Partial<OutgoingWebhook> = {}): OutgoingWebhook {
  return {
    url,
    method: "post",
    headers: {},
    signature: signatureHeaders("whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMw==", "invocation-1", new Date(), body),
    body,
    ...changes,
  };
}

function options(changes: Partial<SenderOptions> = {}): SenderOptions {
  return { allowPrivate: true, lookup: systemLookup, timeoutMs: 10_000, signal: new AbortController().signal, ...changes };
}

/** Resolves hooks.example.com to the receiver on 127.0.0.1 and counts how often it was asked. */
function pointingAtLoopback() {
  const asked: string[] = [];
  const lookup: DnsLookup = async (hostname) => {
    asked.push(hostname);
    return [{ address: "127.0.0.1", family: 4 }];
  };
  return { lookup, asked };
}

describe("sending one webhook request", () => {
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
  });

  beforeEach(() => {
    receiver.received.length = 0;
  });

  afterAll(async () => {
    await receiver.stop();
  });

  it("sends the body with its method, JSON content type, the config's headers and the signature headers", async () => {
    receiver.respondWith(() => ({ status: 200, body: "thanks" }));
    const request = outgoing(receiver.url("/in?x=1"), { method: "put", headers: { "X-Team": ["a", "b"], Authorization: ["Bearer t"] } });
    const result = await sendWebhook(request, options());
    expect(result).toEqual({ succeeded: true, responseStatus: 200, responseBody: "thanks", error: null });
    const [received] = receiver.received;
    expect(received.method).toBe("PUT");
    expect(received.path).toBe("/in?x=1");
    expect(received.body).toBe(body);
    expect(received.headers["content-type"]).toBe("application/json");
    expect(received.headers["x-team"]).toBe("a, b");
    expect(received.headers.authorization).toBe("Bearer t");
    expect(received.headers["webhook-id"]).toBe("invocation-1");
    expect(received.headers["webhook-signature"]).toBe(request.signature["webhook-signature"]);
  });

  it("counts any 2xx as delivered", async () => {
    receiver.respondWith(() => ({ status: 204 }));
    await expect(sendWebhook(outgoing(receiver.url()), options())).resolves.toMatchObject({ succeeded: true, responseStatus: 204 });
  });

  it("counts a 500 as a failure and keeps the response body", async () => {
    receiver.respondWith(() => ({ status: 500, body: "database down" }));
    await expect(sendWebhook(outgoing(receiver.url()), options())).resolves.toEqual({
      succeeded: false,
      responseStatus: 500,
      responseBody: "database down",
      error: "expected a 2xx status, got 500",
    });
  });

  it("does not follow a redirect: one request, and a failure that says so", async () => {
    receiver.respondWith(() => ({ status: 302, headers: { location: receiver.url("/elsewhere") } }));
    const result = await sendWebhook(outgoing(receiver.url()), options());
    expect(result.error).toBe("expected a 2xx status, got 302 (redirects are not followed)");
    expect(receiver.received.map((request) => request.path)).toEqual(["/hook"]);
  });

  it(`keeps at most ${RESPONSE_BODY_LIMIT} bytes of the response body`, async () => {
    receiver.respondWith(() => ({ status: 200, body: "x".repeat(100_000) }));
    const result = await sendWebhook(outgoing(receiver.url()), options());
    expect(result.succeeded).toBe(true);
    expect(result.responseBody).toBe("x".repeat(RESPONSE_BODY_LIMIT));
  });

  it("gives up on a receiver that does not answer within the timeout", async () => {
    receiver.respondWith(() => "hang");
    const result = await sendWebhook(outgoing(receiver.url()), options({ timeoutMs: 300 }));
    expect(result).toEqual({ succeeded: false, responseStatus: null, responseBody: null, error: "timed out after 0.3 s" });
  });

  it("reports a refused connection", async () => {
    const result = await sendWebhook(outgoing(`http://127.0.0.1:${await freePort()}/hook`), options());
    expect(result.succeeded).toBe(false);
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it("rejects with the abort reason when stopped mid-request, so the attempt counts as not made", async () => {
    receiver.respondWith(() => "hang");
    const controller = new AbortController();
    const sending = sendWebhook(outgoing(receiver.url()), options({ signal: controller.signal }));
    await receiver.waitFor((received) => received.length === 1);
    controller.abort(new Error("stopping"));
    await expect(sending).rejects.toThrow("stopping");
  });

  describe("with private targets refused", () => {
    it("refuses a literal loopback address without connecting", async () => {
      const result = await sendWebhook(outgoing(receiver.url()), options({ allowPrivate: false }));
      expect(result.error).toBe("refused: 127.0.0.1 is a private or loopback address, which is not allowed");
      expect(receiver.received).toHaveLength(0);
    });

    it("refuses a public name that DNS points at 127.0.0.1, checked in the socket's own lookup", async () => {
      const dns = pointingAtLoopback();
      const result = await sendWebhook(outgoing(receiver.url("/hook", "hooks.example.com")), options({ allowPrivate: false, lookup: dns.lookup }));
      expect(result.error).toBe("refused: hooks.example.com resolves to a private or loopback address (127.0.0.1), which is not allowed");
      expect(dns.asked).toEqual(["hooks.example.com"]);
      expect(receiver.received).toHaveLength(0);
    });

    it("connects to the address the same lookup gives when private targets are allowed", async () => {
      receiver.respondWith(() => ({ status: 204 }));
      const dns = pointingAtLoopback();
      const result = await sendWebhook(outgoing(receiver.url("/hook", "hooks.example.com")), options({ lookup: dns.lookup }));
      expect(result.succeeded).toBe(true);
      expect(receiver.received[0].headers.host).toBe(`hooks.example.com:${receiver.port}`);
    });
  });
});
