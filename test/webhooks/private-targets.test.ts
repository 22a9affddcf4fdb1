import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/services/context.js";
import type { DnsLookup } from "../../src/webhooks/address-guard.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { settled, waitForInvocations } from "./support/invocations.js";
import { contextOf, createSessionWithWebhooks } from "./support/webhook-sessions.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

/** DNS for hooks.example.com that the test can repoint, as an attacker controlling the name could (rebinding). */
function switchableDns() {
  const state = { address: "93.184.216.34", asked: 0 };
  const lookup: DnsLookup = async (hostname) => {
    if (hostname !== "hooks.example.com") throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    state.asked++;
    return [{ address: state.address, family: 4 }];
  };
  return { lookup, state };
}

describe.each(databaseKinds())("private webhook targets with WEBHOOK_ALLOW_PRIVATE=false, on %s", (kind) => {
  const dns = switchableDns();
  let gateway: TestGateway;
  let context: RequestContext;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    gateway = await startTestGateway(kind, { WEBHOOK_ALLOW_PRIVATE: "false" }, { dnsLookup: dns.lookup });
    context = await contextOf(gateway);
  });

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  it("refuses at creation a name that resolves to 127.0.0.1", async () => {
    dns.state.address = "127.0.0.1";
    const url = receiver.url("/hook", "hooks.example.com");
    await expect(createSessionWithWebhooks(gateway, context, "verify", [{ url }])).rejects.toMatchObject({
      code: "INVALID_INPUT",
      errors: [
        {
          path: ["webhooks", 0, "url"],
          message: "hooks.example.com resolves to a private or loopback address (127.0.0.1), which is not allowed",
          value: url,
        },
      ],
    });
  });

  it("records a failed attempt, and sends nothing, when the name resolves to 127.0.0.1 by the time of delivery", async () => {
    dns.state.address = "93.184.216.34";
    const { session } = await createSessionWithWebhooks(
      gateway,
      context,
      "collect",
      [{ url: receiver.url("/hook", "hooks.example.com"), retries: 1, initialBackoff: 1 }],
      { multiConnection: true },
    );
    dns.state.address = "127.0.0.1";
    const askedBefore = dns.state.asked;
    await gateway.services.sessions.complete(context, "collect", session.id);

    const [invocation] = await waitForInvocations(gateway, context, session.webhooks[0].id, (items) => items.length === 1 && settled(items[0]));
    expect(invocation.status).toBe("failed");
    expect(invocation.attempts).toEqual([1, 2].map((attempt) => expect.objectContaining({
      attempt,
      responseStatus: null,
      error: "refused: hooks.example.com resolves to a private or loopback address (127.0.0.1), which is not allowed",
    })));
    // Each attempt resolved the name itself, in the socket's lookup.
    expect(dns.state.asked - askedBefore).toBe(2);
    expect(receiver.received).toHaveLength(0);
  });
});
