import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Session, WebhookInvocation } from "../../src/db/entities/index.js";
import { now } from "../../src/domain/ids.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { freePort } from "../support/processes.js";
import { settled, waitForInvocations } from "./support/invocations.js";
import { contextOf, createSessionWithWebhooks } from "./support/webhook-sessions.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const ENVELOPE_FIELDS = ["attempt", "entity", "event", "id", "payload", "request_time", "trigger_time", "webhook_id", "webhook_invocation_id"];
const KEY_FIELDS = ["public_key_algorithm", "public_key_md5", "public_key_pem", "public_key_sha256", "public_key_ssh"];
const sorted = (value: object) => Object.keys(value).sort();

describe.each(databaseKinds())("webhook delivery on %s", (kind) => {
  let gateway: TestGateway;
  let context: RequestContext;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    context = await contextOf(gateway);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterEach(async () => {
    await receiver.stop();
  });

  it("sends a failed delivery again after the backoff, under the same invocation id, signed so standardwebhooks accepts it", async () => {
    receiver.respondWith((_request, index) => (index === 0 ? { status: 503, body: "try later" } : { status: 204 }));
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [
      { url: receiver.url(), retries: 2, initialBackoff: 1, backoffMultiplier: 2 },
    ], { multiConnection: true });
    const [webhook] = session.webhooks;
    await gateway.services.sessions.complete(context, "verify", session.id);

    const [first, second] = await receiver.waitFor((received) => received.length === 2);
    const invocationId = first.json.webhook_invocation_id as string;
    expect(second.json.webhook_invocation_id).toBe(invocationId);
    expect([first.headers["webhook-id"], second.headers["webhook-id"]]).toEqual([invocationId, invocationId]);
    expect([first.json.attempt, second.json.attempt]).toEqual([1, 2]);
    for (const request of [first, second]) {
      const headers = request.headers as Record<string, string>;
      expect(new StandardWebhook(webhook.secret).verify(request.body, headers)).toEqual(request.json);
    }

    const [invocation] = await waitForInvocations(gateway, context, webhook.id, (items) => items.length === 1 && settled(items[0]));
    expect(invocation).toMatchObject({ id: invocationId, event: "status_changed", status: "succeeded", nextAttemptAt: null });
    expect(invocation.attempts).toMatchObject([
      { attempt: 1, responseStatus: 503, responseBody: "try later", error: "expected a 2xx status, got 503" },
      { attempt: 2, responseStatus: 204, responseBody: "", error: null },
    ]);
    const [one, two] = invocation.attempts;
    // initial_backoff * backoff_multiplier^(1-1) = 1 s between the first attempt and the second.
    expect(two.requestTime.getTime() - one.requestTime.getTime()).toBeGreaterThanOrEqual(1000);
    expect(second.receivedAt.getTime() - first.receivedAt.getTime()).toBeGreaterThanOrEqual(1000);
  });

  it("counts every attempt in /metrics by result", async () => {
    const deliveries = async () => {
      const { text } = await gateway.request("GET", "/metrics", { apiKey: null });
      const count = (result: string) => Number(new RegExp(`^sshverify_webhook_deliveries_total\\{result="${result}"\\} (\\d+)$`, "m").exec(text)?.[1]);
      return { succeeded: count("succeeded"), failed: count("failed") };
    };
    const before = await deliveries();
    receiver.respondWith((_request, index) => (index === 0 ? { status: 500 } : { status: 200 }));
    const { session } = await createSessionWithWebhooks(gateway, context, "collect", [{ url: receiver.url(), retries: 1, initialBackoff: 1 }], {
      multiConnection: true,
    });
    await gateway.services.sessions.complete(context, "collect", session.id);
    await waitForInvocations(gateway, context, session.webhooks[0].id, (items) => items.length === 1 && settled(items[0]));
    expect(await deliveries()).toEqual({ succeeded: before.succeeded + 1, failed: before.failed + 1 });
  });

  it("sends every verify session event with the envelope and the payload fields of SPEC §7", async () => {
    const { session, key } = await createSessionWithWebhooks(
      gateway,
      context,
      "verify",
      [{ url: receiver.url("/verify"), method: "put", headers: { "X-Team": ["blue"] } }],
      { externalId: "customer-7", maxAttempts: 3 },
    );
    const [webhook] = session.webhooks;
    const logins = gateway.services.sshLogins;
    const first = await logins.openConnection(session.id, "203.0.113.9", "SSH-2.0-OpenSSH_9.6");
    await logins.recordFailedAttempt(first.connectionId as string, session.id, {
      ipAddress: "203.0.113.9",
      clientVersion: "SSH-2.0-OpenSSH_9.6",
      reason: "no configured key was proven",
    });
    const second = await logins.openConnection(session.id, "203.0.113.10", "SSH-2.0-OpenSSH_10.0");
    await logins.recordProof(second.connectionId as string, session.id, [{ sessionKeyId: session.keys[0].id, key: key.parsed }]);

    const received = await receiver.waitFor((requests) => requests.length === 5);
    const byEvent = (event: string) => received.filter((request) => request.json.event === event).map((request) => request.json);
    for (const request of received) {
      expect(request.method).toBe("PUT");
      expect(request.headers["x-team"]).toBe("blue");
      expect(sorted(request.json)).toEqual(ENVELOPE_FIELDS);
      expect(request.json).toMatchObject({ entity: "verify_session", id: session.id, webhook_id: webhook.id, attempt: 1 });
      expect(request.json.payload).toMatchObject({
        verify_session_id: session.id,
        verify_session_external_id: "customer-7",
        verify_session_connection_identifier: session.connectionIdentifier,
      });
    }
    const base = ["verify_session_connection_identifier", "verify_session_external_id", "verify_session_id"];
    const connections = byEvent("new_connection");
    expect(connections).toHaveLength(2);
    expect(connections.map((envelope) => envelope.payload)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ verify_session_connection_id: first.connectionId, ip_address: "203.0.113.9", client_version: "SSH-2.0-OpenSSH_9.6" }),
        expect.objectContaining({ verify_session_connection_id: second.connectionId, ip_address: "203.0.113.10", client_version: "SSH-2.0-OpenSSH_10.0" }),
      ]),
    );
    expect(sorted(connections[0].payload)).toEqual([...base, "client_version", "ip_address", "verify_session_connection_id"].sort());

    const [failed] = byEvent("failed_attempt");
    expect(sorted(failed.payload)).toEqual(
      [...base, "attempts", "client_version", "ip_address", "max_attempts", "reason", "verify_session_connection_id"].sort(),
    );
    expect(failed.payload).toMatchObject({
      verify_session_connection_id: first.connectionId,
      attempts: 1,
      max_attempts: 3,
      reason: "no configured key was proven",
    });

    const [verified] = byEvent("verified");
    expect(sorted(verified.payload)).toEqual(
      [...base, ...KEY_FIELDS, "verify_session_connection_id", "verify_session_connection_key_id", "verify_session_key_id"].sort(),
    );
    const detail = await gateway.services.sessions.get(context, "verify", session.id);
    const provenKey = detail.connections.find((connection) => connection.id === second.connectionId)?.keys[0];
    expect(verified.payload).toMatchObject({
      verify_session_connection_id: second.connectionId,
      verify_session_key_id: session.keys[0].id,
      verify_session_connection_key_id: provenKey?.id,
      public_key_ssh: key.parsed.ssh,
      public_key_pem: key.parsed.pem,
      public_key_md5: key.parsed.md5,
      public_key_sha256: key.parsed.sha256,
      public_key_algorithm: "ssh-ed25519",
    });

    const [changed] = byEvent("status_changed");
    expect(changed.payload).toEqual({
      verify_session_id: session.id,
      verify_session_external_id: "customer-7",
      verify_session_connection_identifier: session.connectionIdentifier,
      verify_session_status: "verified",
      verify_session_previous_status: "pending",
    });
    expect(new Date(changed.trigger_time).getTime()).toBeLessThanOrEqual(new Date(changed.request_time).getTime());
  });

  it("sends every collect session event with the envelope and the payload fields of SPEC §7", async () => {
    const { session, key } = await createSessionWithWebhooks(gateway, context, "collect", [{ url: receiver.url("/collect") }]);
    const logins = gateway.services.sshLogins;
    const opened = await logins.openConnection(session.id, "198.51.100.4", "SSH-2.0-OpenSSH_9.6");
    await logins.recordProof(opened.connectionId as string, session.id, [{ sessionKeyId: null, key: key.parsed }]);

    const received = await receiver.waitFor((requests) => requests.length === 3);
    const envelope = (event: string) => received.find((request) => request.json.event === event)?.json;
    const base = { collect_session_id: session.id, collect_session_external_id: null, collect_session_connection_identifier: session.connectionIdentifier };
    for (const request of received) expect(request.json).toMatchObject({ entity: "collect_session", id: session.id });
    expect(envelope("new_connection").payload).toEqual({
      ...base,
      collect_session_connection_id: opened.connectionId,
      ip_address: "198.51.100.4",
      client_version: "SSH-2.0-OpenSSH_9.6",
    });
    const detail = await gateway.services.sessions.get(context, "collect", session.id);
    expect(envelope("key_collected").payload).toEqual({
      ...base,
      collect_session_connection_id: opened.connectionId,
      collect_session_key_id: detail.keys[0].id,
      public_key_ssh: key.parsed.ssh,
      public_key_pem: key.parsed.pem,
      public_key_md5: key.parsed.md5,
      public_key_sha256: key.parsed.sha256,
      public_key_algorithm: "ssh-ed25519",
    });
    expect(envelope("status_changed").payload).toEqual({
      ...base,
      collect_session_status: "completed",
      collect_session_previous_status: "pending",
    });
  });

  it("sends a webhook only the events it subscribes to, and each webhook its own invocation", async () => {
    const { session } = await createSessionWithWebhooks(
      gateway,
      context,
      "verify",
      [{ url: receiver.url("/only-status"), events: ["status_changed"] }, { url: receiver.url("/all") }],
      { multiConnection: true },
    );
    await gateway.services.sshLogins.openConnection(session.id, "203.0.113.1", "SSH-2.0-test");
    await gateway.services.sessions.complete(context, "verify", session.id);

    const received = await receiver.waitFor((requests) => requests.length === 3);
    const eventsAt = (path: string) => received.filter((request) => request.path === path).map((request) => request.json.event).sort();
    expect(eventsAt("/only-status")).toEqual(["status_changed"]);
    expect(eventsAt("/all")).toEqual(["new_connection", "status_changed"]);
    const invocationIds = new Set(received.map((request) => request.json.webhook_invocation_id));
    expect(invocationIds.size).toBe(3);
  });

  it("marks an invocation failed after `retries` retries, keeping every attempt, and sends nothing more", async () => {
    receiver.respondWith(() => ({ status: 500, body: "broken" }));
    const { session } = await createSessionWithWebhooks(gateway, context, "collect", [
      { url: receiver.url(), retries: 1, initialBackoff: 1 },
    ], { multiConnection: true });
    const [webhook] = session.webhooks;
    await gateway.services.sessions.complete(context, "collect", session.id);

    const [invocation] = await waitForInvocations(gateway, context, webhook.id, (items) => items.length === 1 && settled(items[0]));
    expect(invocation.status).toBe("failed");
    expect(invocation.nextAttemptAt).toBeNull();
    expect(invocation.attempts.map((attempt) => [attempt.attempt, attempt.responseStatus, attempt.error])).toEqual([
      [1, 500, "expected a 2xx status, got 500"],
      [2, 500, "expected a 2xx status, got 500"],
    ]);
    expect(receiver.received).toHaveLength(2);
  });

  it("delivers a failed invocation again at once when retried, continuing its attempt numbers", async () => {
    receiver.respondWith(() => ({ status: 500 }));
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [{ url: receiver.url() }], { multiConnection: true });
    const [webhook] = session.webhooks;
    await gateway.services.sessions.complete(context, "verify", session.id);
    const [failed] = await waitForInvocations(gateway, context, webhook.id, (items) => items.length === 1 && settled(items[0]));
    expect(failed.status).toBe("failed");

    receiver.respondWith(() => ({ status: 200, body: "ok" }));
    const retried = await gateway.services.webhooks.retry(context, failed.id);
    expect(retried).toMatchObject({ id: failed.id, status: "pending" });
    const [succeeded] = await waitForInvocations(gateway, context, webhook.id, (items) => settled(items[0]));
    expect(succeeded.status).toBe("succeeded");
    expect(succeeded.attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
    expect(receiver.received.map((request) => [request.json.webhook_invocation_id, request.json.attempt])).toEqual([
      [failed.id, 1],
      [failed.id, 2],
    ]);
  });

  it("records an unreachable target as a failed attempt with the reason", async () => {
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [{ url: `http://127.0.0.1:${await freePort()}/gone` }], {
      multiConnection: true,
    });
    await gateway.services.sessions.complete(context, "verify", session.id);
    const [invocation] = await waitForInvocations(gateway, context, session.webhooks[0].id, (items) => items.length === 1 && settled(items[0]));
    expect(invocation.status).toBe("failed");
    expect(invocation.attempts[0]).toMatchObject({ attempt: 1, responseStatus: null, responseBody: null });
    expect(invocation.attempts[0].error).toMatch(/ECONNREFUSED/);
  });

  it("writes no outbox row, and sends nothing, when the change's transaction rolls back", async () => {
    const { session } = await createSessionWithWebhooks(gateway, context, "verify", [{ url: receiver.url() }]);
    const row = await gateway.services.database.read((manager) => manager.findOneByOrFail(Session, { id: session.id }));
    const attempt = gateway.services.database.transaction(async (transaction) => {
      await gateway.services.events.record(transaction, row, "new_connection", { ip_address: null }, now());
      throw new Error("the change failed after its event was recorded");
    });
    await expect(attempt).rejects.toThrow("the change failed");
    const rows = await gateway.services.database.read((manager) => manager.countBy(WebhookInvocation, { sessionId: session.id }));
    expect(rows).toBe(0);
  });
});
