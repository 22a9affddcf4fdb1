import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import {
  Connection,
  Session,
  SessionKey,
  Webhook,
  WebhookAttempt,
  WebhookInvocation,
} from "../../src/db/entities/index.js";
import { newId } from "../../src/domain/ids.js";
import { ApiKeysService } from "../../src/services/api-keys.service.js";
import type { RequestContext } from "../../src/services/context.js";
import { createGatewayPubSub } from "../../src/services/pubsub.js";
import { RetentionService, type RetentionSettings } from "../../src/services/retention.service.js";
import { SessionEvents } from "../../src/services/session-events.js";
import { SessionsService } from "../../src/services/sessions.service.js";
import { SshLoginsService } from "../../src/services/ssh-logins.service.js";
import { ed25519KeyLine } from "../rest/support/rest-fixtures.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";

const DAY_MS = 24 * 60 * 60 * 1000;

describe.each(databaseKinds())("retention on %s", (kind) => {
  let testDatabase: TestDatabase;
  let database: Database;
  let sessions: SessionsService;
  let logins: SshLoginsService;
  let context: RequestContext;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    database = await Database.connect(testDatabase.url);
    await database.migrate();
    const events = new SessionEvents(createGatewayPubSub(null));
    sessions = new SessionsService(database, events, async () => null);
    logins = new SshLoginsService(database, events);
    context = await new ApiKeysService(database).ensureBootstrapKey("retention-test-bootstrap-key");
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  const manager = () => database.dataSource.manager;

  /**
   * A verify session with a key, a webhook, one connection from 203.0.113.7 and one finished and one pending
   * invocation (each with an attempt), all dated `ageDays` ago.
   */
  async function createAgedSession(ageDays: number): Promise<{ id: string; connectionId: string; finished: string; pending: string }> {
    const publicKey = ed25519KeyLine();
    const created = await sessions.create(context, "verify", {
      keys: [{ publicKey }],
      webhooks: [{ url: "http://127.0.0.1:9/hooks" }],
    });
    const opened = await logins.openConnection(created.id, "203.0.113.7", "SSH-2.0-OpenSSH_9.2");
    if (!opened.connectionId) throw new Error(`connection refused: ${opened.refusal}`);
    const [webhook] = await manager().findBy(Webhook, { sessionId: created.id });
    const at = new Date(Date.now() - ageDays * DAY_MS);
    const invocation = (status: "succeeded" | "pending") => ({
      id: newId(at),
      webhookId: webhook.id,
      sessionId: created.id,
      event: "status_changed",
      payload: "{}",
      status,
      attemptCount: 1,
      triggerTime: at,
      nextAttemptAt: status === "pending" ? at : null,
      leaseUntil: null,
      leaseOwner: null,
      createdAt: at,
    });
    const finished = invocation("succeeded");
    const pending = invocation("pending");
    // One insert per row: TypeORM 1.1 may hand the ids of a multi-row insert back to the objects in another order.
    for (const row of [finished, pending]) {
      await manager().insert(WebhookInvocation, { ...row });
      await manager().insert(WebhookAttempt, {
        id: newId(at),
        invocationId: row.id,
        attempt: 1,
        requestTime: at,
        responseStatus: row.status === "succeeded" ? 200 : 500,
        responseBody: null,
        error: null,
      });
    }
    await manager().update(Session, { id: created.id }, { createdAt: at, updatedAt: at });
    await manager().update(Connection, { id: opened.connectionId }, { createdAt: at });
    await manager().update(WebhookInvocation, { sessionId: created.id }, { createdAt: at });
    return { id: created.id, connectionId: opened.connectionId, finished: finished.id, pending: pending.id };
  }

  const retention = (settings: Partial<RetentionSettings>) =>
    new RetentionService(database, { retentionDays: 0, connectionIpRetentionDays: 0, invocationRetentionDays: 0, ...settings });

  it("keeps everything when every retention setting is 0", async () => {
    const old = await createAgedSession(400);
    const service = retention({});
    expect(service.enabled).toBe(false);
    expect(await service.purge()).toEqual({ sessions: 0, connectionIps: 0, invocations: 0 });
    expect(await manager().findOneBy(Session, { id: old.id })).not.toBeNull();
    expect((await manager().findOneByOrFail(Connection, { id: old.connectionId })).ipAddress).toBe("203.0.113.7");
  });

  it("deletes sessions older than RETENTION_DAYS with their keys, connections, webhooks, invocations and attempts", async () => {
    const old = await createAgedSession(31);
    const recent = await createAgedSession(29);
    const report = await retention({ retentionDays: 30 }).purge();

    expect(report.sessions).toBeGreaterThanOrEqual(1);
    expect(await manager().findOneBy(Session, { id: old.id })).toBeNull();
    expect(await manager().countBy(SessionKey, { sessionId: old.id })).toBe(0);
    expect(await manager().countBy(Connection, { sessionId: old.id })).toBe(0);
    expect(await manager().countBy(Webhook, { sessionId: old.id })).toBe(0);
    expect(await manager().countBy(WebhookInvocation, { sessionId: old.id })).toBe(0);
    expect(await manager().countBy(WebhookAttempt, { invocationId: old.finished })).toBe(0);

    expect(await manager().findOneBy(Session, { id: recent.id })).not.toBeNull();
    expect(await manager().countBy(SessionKey, { sessionId: recent.id })).toBe(1);
    expect(await manager().countBy(WebhookInvocation, { sessionId: recent.id })).toBeGreaterThanOrEqual(2);
  });

  it("forgets connection IPs older than CONNECTION_IP_RETENTION_DAYS and keeps the connections", async () => {
    const old = await createAgedSession(8);
    const recent = await createAgedSession(6);
    const report = await retention({ connectionIpRetentionDays: 7 }).purge();

    expect(report.connectionIps).toBeGreaterThanOrEqual(1);
    const oldConnection = await manager().findOneByOrFail(Connection, { id: old.connectionId });
    expect(oldConnection.ipAddress).toBeNull();
    expect(oldConnection.clientVersion).toBe("SSH-2.0-OpenSSH_9.2");
    expect((await manager().findOneByOrFail(Connection, { id: recent.connectionId })).ipAddress).toBe("203.0.113.7");
    expect(await manager().findOneBy(Session, { id: old.id })).not.toBeNull();
    expect((await retention({ connectionIpRetentionDays: 7 }).purge()).connectionIps).toBe(0);
  });

  it("deletes finished invocations older than INVOCATION_RETENTION_DAYS with their attempts, never pending ones", async () => {
    const old = await createAgedSession(15);
    const recent = await createAgedSession(13);
    const report = await retention({ invocationRetentionDays: 14 }).purge();

    expect(report.invocations).toBeGreaterThanOrEqual(1);
    expect(await manager().findOneBy(WebhookInvocation, { id: old.finished })).toBeNull();
    expect(await manager().countBy(WebhookAttempt, { invocationId: old.finished })).toBe(0);
    expect(await manager().findOneBy(WebhookInvocation, { id: old.pending })).not.toBeNull();
    expect(await manager().countBy(WebhookAttempt, { invocationId: old.pending })).toBe(1);
    expect(await manager().findOneBy(WebhookInvocation, { id: recent.finished })).not.toBeNull();
    expect(await manager().findOneBy(Session, { id: old.id })).not.toBeNull();
  });

  it("purges a backlog larger than one batch", async () => {
    const at = new Date(Date.now() - 100 * DAY_MS);
    const rows = Array.from({ length: 1_200 }, (_, index) => ({
      id: newId(at),
      projectId: context.projectId,
      kind: "collect" as const,
      connectionIdentifier: `backlog-${index}-${newId(at)}`,
      status: "expired" as const,
      createdAt: at,
      updatedAt: at,
    }));
    for (let start = 0; start < rows.length; start += 200) {
      await manager().insert(Session, rows.slice(start, start + 200));
    }
    const report = await retention({ retentionDays: 90 }).purge();
    expect(report.sessions).toBeGreaterThanOrEqual(rows.length);
    expect(await manager().countBy(Session, { status: "expired", createdAt: at })).toBe(0);
  });
});
