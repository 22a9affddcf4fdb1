import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { Session, WebhookInvocation } from "../../src/db/entities/index.js";
import { createLogger } from "../../src/logger.js";
import type { RequestContext } from "../../src/services/context.js";
import { startExpirySweeper } from "../../src/services/expiry-sweeper.js";
import { createGatewayPubSub, type GatewayPubSub, type StatusChangedEvent } from "../../src/services/pubsub.js";
import { SessionEvents } from "../../src/services/session-events.js";
import { SessionsService } from "../../src/services/sessions.service.js";
import { ApiKeysService } from "../../src/services/api-keys.service.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";
import { waitFor } from "../support/wait-for.js";

const logger = createLogger(process.env.TEST_LOG_LEVEL === "debug" ? "debug" : "silent");

/** One gateway instance's view: its own connection, its own in-process pub/sub, its own services. */
interface Instance {
  database: Database;
  pubSub: GatewayPubSub;
  sessions: SessionsService;
  announced: StatusChangedEvent[];
  close(): Promise<void>;
}

async function openInstance(url: string, projectId: string): Promise<Instance> {
  const database = await Database.connect(url);
  const pubSub = createGatewayPubSub(null);
  const announced: StatusChangedEvent[] = [];
  const subscription = pubSub.subscribe("session-status:project", projectId);
  void (async () => {
    for await (const event of subscription) announced.push(event);
  })();
  return {
    database,
    pubSub,
    sessions: new SessionsService(database, new SessionEvents(pubSub), async () => null),
    announced,
    close: async () => {
      await subscription.return?.();
      await database.close();
    },
  };
}

describe.each(databaseKinds())("expiry sweeper on %s", (kind) => {
  let testDatabase: TestDatabase;
  let setup: Database;
  let context: RequestContext;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    setup = await Database.connect(testDatabase.url);
    await setup.migrate();
    context = await new ApiKeysService(setup).ensureBootstrapKey("sweeper-test-bootstrap-key");
  });

  afterAll(async () => {
    await setup?.close();
    await testDatabase?.drop();
  });

  /** A collect session with one webhook, whose expiry is moved into the past when `due`. */
  async function createSession(instance: Instance, due: boolean): Promise<string> {
    const created = await instance.sessions.create(context, "collect", {
      timeout: 3600,
      webhooks: [{ url: "http://127.0.0.1:9/hooks" }],
    });
    if (due) await setup.dataSource.manager.update(Session, { id: created.id }, { expiredAt: new Date(Date.now() - 60_000) });
    return created.id;
  }

  async function statusOf(id: string): Promise<string | undefined> {
    return (await setup.dataSource.manager.findOneBy(Session, { id }))?.status;
  }

  async function statusChangedRows(ids: string[]): Promise<WebhookInvocation[]> {
    const rows = await setup.dataSource.manager.find(WebhookInvocation, { where: { event: "status_changed" } });
    return rows.filter((row) => ids.includes(row.sessionId));
  }

  it("stores a pending session past expired_at as expired and announces it once", async () => {
    const instance = await openInstance(testDatabase.url, context.projectId);
    try {
      const id = await createSession(instance, true);
      const sweeper = startExpirySweeper(instance.sessions, 20, logger);
      await waitFor("the session to be expired", async () => (await statusOf(id)) === "expired");
      await waitFor("the announcement", () => instance.announced.some((event) => event.session.id === id));
      await sweeper.stop();

      const rows = await statusChangedRows([id]);
      expect(rows).toHaveLength(1);
      expect(JSON.parse(rows[0].payload)).toMatchObject({
        collect_session_status: "expired",
        collect_session_previous_status: "pending",
      });
      const announcements = instance.announced.filter((event) => event.session.id === id);
      expect(announcements).toHaveLength(1);
      expect(announcements[0]).toMatchObject({ previousStatus: "pending", status: "expired" });
    } finally {
      await instance.close();
    }
  });

  it("leaves a pending session that is not yet due alone", async () => {
    const instance = await openInstance(testDatabase.url, context.projectId);
    try {
      const notDue = await createSession(instance, false);
      const due = await createSession(instance, true);
      const sweeper = startExpirySweeper(instance.sessions, 20, logger);
      await waitFor("the due session to be expired", async () => (await statusOf(due)) === "expired");
      await sweeper.stop();
      expect(await statusOf(notDue)).toBe("pending");
      expect(await statusChangedRows([notDue])).toHaveLength(0);
    } finally {
      await instance.close();
    }
  });

  // Two instances in one process: on MySQL only. better-sqlite3 waits for a lock synchronously, so two SQLite
  // connections in one thread block each other; on SQLite this race runs as two processes in
  // test/operations/expiry-across-instances.test.ts.
  if (kind !== "sqlite") {
    it("announces each expiry exactly once when two instances sweep the same database at once", async () => {
      const first = await openInstance(testDatabase.url, context.projectId);
      const second = await openInstance(testDatabase.url, context.projectId);
      try {
        const ids: string[] = [];
        for (let index = 0; index < 40; index++) ids.push(await createSession(first, true));
        const sweepers = [startExpirySweeper(first.sessions, 5, logger), startExpirySweeper(second.sessions, 5, logger)];
        await waitFor("every session to be expired", async () => {
          const statuses = await Promise.all(ids.map(statusOf));
          return statuses.every((status) => status === "expired");
        });
        await Promise.all(sweepers.map((sweeper) => sweeper.stop()));

        const rows = await statusChangedRows(ids);
        expect(rows).toHaveLength(ids.length);
        expect(new Set(rows.map((row) => row.sessionId)).size).toBe(ids.length);
        const announced = [...first.announced, ...second.announced].filter((event) => ids.includes(event.session.id));
        expect(announced.map((event) => event.session.id).sort()).toEqual([...ids].sort());
      } finally {
        await first.close();
        await second.close();
      }
    });
  }

  it("waits for a sweep in progress when stopped, and sweeps no more after that", async () => {
    const instance = await openInstance(testDatabase.url, context.projectId);
    try {
      const sweeper = startExpirySweeper(instance.sessions, 20, logger);
      await sweeper.stop();
      const id = await createSession(instance, true);
      expect(await instance.sessions.expireDue()).toBeGreaterThanOrEqual(1);
      expect(await statusChangedRows([id])).toHaveLength(1);
    } finally {
      await instance.close();
    }
  });
});
