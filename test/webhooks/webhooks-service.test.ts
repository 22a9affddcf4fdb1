import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookAttempt, WebhookInvocation } from "../../src/db/entities/index.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { settled, waitForInvocations } from "./support/invocations.js";
import { contextOf, createSessionWithWebhooks } from "./support/webhook-sessions.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const page = { offset: 0, limit: 100 };

describe.each(databaseKinds())("webhook configs and invocations on %s", (kind) => {
  let gateway: TestGateway;
  let context: RequestContext;
  let otherProject: RequestContext;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    context = await contextOf(gateway);
    const other = await gateway.services.apiKeys.createProject("other");
    otherProject = await gateway.services.apiKeys.authenticate(other.apiKey.key);
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  const newSession = async (sessionKind: "verify" | "collect" = "verify") =>
    (await createSessionWithWebhooks(gateway, context, sessionKind, [], { multiConnection: true })).session;

  it("creates a webhook with the defaults of SPEC §7 and shows its secret only in the create response", async () => {
    const session = await newSession();
    const created = await gateway.services.webhooks.create(context, session.id, { url: receiver.url() }, "verify");
    expect(created).toMatchObject({
      url: receiver.url(),
      method: "post",
      headers: {},
      events: [],
      retries: 0,
      initialBackoff: 10,
      backoffMultiplier: 2,
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const fetched = await gateway.services.webhooks.get(context, created.id, { sessionId: session.id, kind: "verify" });
    expect(fetched).not.toHaveProperty("secret");
    const listed = await gateway.services.webhooks.list(context, "verify", session.id, page);
    expect(listed).toEqual({ items: [fetched], total: 1 });
    expect(listed.items[0]).not.toHaveProperty("secret");
  });

  it("reports every rule a webhook breaks at once, with field paths", async () => {
    const session = await newSession("collect");
    const attempt = gateway.services.webhooks.create(context, session.id, {
      url: "ftp://example.com",
      method: "get" as never,
      headers: { "Webhook-Signature": ["forged"] },
      events: ["status_changed", "verified"],
      retries: 21,
      initialBackoff: 0,
      backoffMultiplier: 11,
    }, "collect");
    await expect(attempt).rejects.toMatchObject({
      code: "INVALID_INPUT",
      errors: [
        { path: ["url"], message: "expected an absolute http or https URL", value: "ftp://example.com" },
        { path: ["method"], message: 'expected value to be one of "post, put, patch"', value: "get" },
        { path: ["headers"], message: 'header "Webhook-Signature" cannot be overridden', value: "Webhook-Signature" },
        { path: ["events", 1], message: 'expected value to be one of "new_connection, key_collected, status_changed"', value: "verified" },
        { path: ["retries"], message: "expected number between 0 and 20", value: 21 },
        { path: ["initial_backoff"], message: "expected number between 1 and 86400", value: 0 },
        { path: ["backoff_multiplier"], message: "expected number between 1 and 10", value: 11 },
      ],
    });
  });

  it("finds a webhook only within the caller's project, the session named and its kind", async () => {
    const session = await newSession();
    const { id } = await gateway.services.webhooks.create(context, session.id, { url: receiver.url() }, "verify");
    const notFound = { code: "NOT_FOUND" };
    await expect(gateway.services.webhooks.get(otherProject, id)).rejects.toMatchObject(notFound);
    await expect(gateway.services.webhooks.get(context, id, { sessionId: session.id, kind: "collect" })).rejects.toMatchObject(notFound);
    const elsewhere = await newSession();
    await expect(gateway.services.webhooks.get(context, id, { sessionId: elsewhere.id, kind: "verify" })).rejects.toMatchObject(notFound);
    await expect(gateway.services.webhooks.create(otherProject, session.id, { url: receiver.url() }, "verify")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "verify session not found",
    });
    await expect(gateway.services.webhooks.delete(otherProject, id)).rejects.toMatchObject(notFound);
    await expect(gateway.services.webhooks.get(context, id)).resolves.toMatchObject({ id });
  });

  it("finds many webhooks by id in the caller's project only, in the order asked, null for the rest", async () => {
    const session = await newSession();
    const first = await gateway.services.webhooks.create(context, session.id, { url: receiver.url() }, "verify");
    const second = await gateway.services.webhooks.create(context, session.id, { url: receiver.url("/second") }, "verify");
    const found = await gateway.services.webhooks.findMany(context, [second.id, "unknown", first.id, session.id]);
    expect(found).toEqual([await gateway.services.webhooks.get(context, second.id), null, await gateway.services.webhooks.get(context, first.id), null]);
    expect(found[0]).not.toHaveProperty("secret");
    expect(await gateway.services.webhooks.findMany(otherProject, [first.id, second.id])).toEqual([null, null]);
  });

  it("updates only the fields given; null restores a default; the result must still satisfy every rule", async () => {
    const session = await newSession();
    const created = await gateway.services.webhooks.create(context, session.id, {
      url: receiver.url(),
      retries: 5,
      events: ["verified"],
    }, "verify");
    const updated = await gateway.services.webhooks.update(context, created.id, { method: "patch", retries: null });
    expect(updated).toMatchObject({ url: receiver.url(), method: "patch", retries: 0, events: ["verified"] });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    await expect(gateway.services.webhooks.update(context, created.id, { url: null, events: ["key_collected"] })).rejects.toMatchObject({
      code: "INVALID_INPUT",
      errors: [
        { path: ["url"], message: "expected an absolute http or https URL", value: null },
        { path: ["events", 0], message: 'expected value to be one of "new_connection, verified, failed_attempt, status_changed"', value: "key_collected" },
      ],
    });
    await expect(gateway.services.webhooks.get(context, created.id)).resolves.toMatchObject({ method: "patch", events: ["verified"] });
  });

  it("allows at most 20 webhooks on a session", async () => {
    const session = await newSession("collect");
    for (let index = 0; index < 20; index++) {
      await gateway.services.webhooks.create(context, session.id, { url: receiver.url(`/${index}`) }, "collect");
    }
    await expect(gateway.services.webhooks.create(context, session.id, { url: receiver.url() }, "collect")).rejects.toMatchObject({
      code: "CONFLICT",
      message: "a session has at most 20 webhooks",
    });
    const { items, total } = await gateway.services.webhooks.list(context, "collect", session.id, { offset: 5, limit: 10 });
    expect(total).toBe(20);
    expect(items.map((webhook) => webhook.url)).toEqual(Array.from({ length: 10 }, (_, index) => receiver.url(`/${14 - index}`)));
  });

  it("lists invocations newest first with their attempts, and deleting the webhook takes them along", async () => {
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [{ url: receiver.url() }], { multiConnection: true });
    const [webhook] = session.webhooks;
    await gateway.services.sshLogins.openConnection(session.id, "203.0.113.5", "SSH-2.0-test");
    await gateway.services.sessions.complete(context, "verify", session.id);
    const invocations = await waitForInvocations(gateway, context, webhook.id, (items) => items.length === 2 && items.every(settled));
    expect(invocations.map((invocation) => invocation.event)).toEqual(["status_changed", "new_connection"]);
    expect(invocations[0]).toMatchObject({
      webhookId: webhook.id,
      sessionId: session.id,
      status: "succeeded",
      nextAttemptAt: null,
      payload: { verify_session_status: "failed", verify_session_previous_status: "pending" },
      attempts: [{ attempt: 1, responseStatus: 204, error: null }],
    });
    const second = await gateway.services.webhooks.invocations(context, webhook.id, { offset: 1, limit: 1 }, { sessionId: session.id, kind: "verify" });
    expect(second.total).toBe(2);
    expect(second.items.map((invocation) => invocation.event)).toEqual(["new_connection"]);

    await gateway.services.webhooks.delete(context, webhook.id, { sessionId: session.id, kind: "verify" });
    await expect(gateway.services.webhooks.get(context, webhook.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
    const left = await gateway.services.database.read(async (manager) => [
      await manager.countBy(WebhookInvocation, { webhookId: webhook.id }),
      await manager.countBy(WebhookAttempt, { invocationId: invocations[0].id }),
    ]);
    expect(left).toEqual([0, 0]);
  });

  it("retries only an invocation of the caller's project, and of the webhook named", async () => {
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [{ url: receiver.url() }, { url: receiver.url("/2") }], {
      multiConnection: true,
    });
    await gateway.services.sessions.complete(context, "verify", session.id);
    const [invocation] = await waitForInvocations(gateway, context, session.webhooks[0].id, (items) => items.length === 1 && settled(items[0]));
    const notFound = { code: "NOT_FOUND", message: "webhook invocation not found" };
    await expect(gateway.services.webhooks.retry(otherProject, invocation.id)).rejects.toMatchObject(notFound);
    await expect(gateway.services.webhooks.retry(context, invocation.id, { webhookId: session.webhooks[1].id })).rejects.toMatchObject(notFound);
    await expect(gateway.services.webhooks.retry(context, "00000000-0000-7000-8000-000000000000")).rejects.toMatchObject(notFound);
  });
});

describe.each(databaseKinds())("webhook targets with private addresses refused, on %s", (kind) => {
  let gateway: TestGateway;
  let context: RequestContext;

  beforeAll(async () => {
    gateway = await startTestGateway(kind, { WEBHOOK_ALLOW_PRIVATE: "false" });
    context = await contextOf(gateway);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("refuses a loopback target when a session is created, naming the webhook's url", async () => {
    const attempt = createSessionWithWebhooks(gateway, context, "verify", [{ url: "http://93.184.216.34/ok" }, { url: "http://127.0.0.1:9/hook" }]);
    await expect(attempt).rejects.toMatchObject({
      code: "INVALID_INPUT",
      errors: [{ path: ["webhooks", 1, "url"], message: "127.0.0.1 is a private or loopback address, which is not allowed" }],
    });
  });

  it("refuses a private target when a webhook is created or its url changed", async () => {
    const { session } = await createSessionWithWebhooks(gateway, context, "collect", []);
    const refused = {
      code: "INVALID_INPUT",
      errors: [{ path: ["url"], message: "169.254.169.254 is a private or loopback address, which is not allowed", value: "http://169.254.169.254/latest" }],
    };
    await expect(gateway.services.webhooks.create(context, session.id, { url: "http://169.254.169.254/latest" }, "collect")).rejects.toMatchObject(refused);
    const { id } = await gateway.services.webhooks.create(context, session.id, { url: "http://93.184.216.34/hook" }, "collect");
    await expect(gateway.services.webhooks.update(context, id, { url: "http://169.254.169.254/latest" })).rejects.toMatchObject(refused);
  });
});
