import { In } from "typeorm";
import { describe, expect, it } from "vitest";
import { Session, WebhookInvocation } from "../../src/db/entities/index.js";
import { createGatewayPubSub } from "../../src/services/pubsub.js";
import { createTestDatabase, databaseKinds } from "../support/databases.js";
import { stopProcess } from "../support/processes.js";
import { waitFor } from "../support/wait-for.js";
import { connectWithoutWorker, newBootstrapKey } from "../webhooks/support/service-processes.js";
import { WebhookReceiver } from "../webhooks/support/webhook-receiver.js";
import { type GatewayProcess, logLines, startGatewayProcess } from "./support/gateway-processes.js";

const SESSIONS = 30;

describe.each(databaseKinds())("the expiry sweeper of two gateway processes on %s", (kind) => {
  // On MariaDB the two processes also share Redis, as instances behind a balancer do.
  const redisUrl = kind === "mariadb" ? (process.env.TEST_REDIS_URL ?? null) : null;

  it("stores each due session as expired once and announces it exactly once", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase(kind);
    const apiKey = newBootstrapKey();
    const receiver = await WebhookReceiver.start(() => ({ status: 204 }));
    const seeder = await connectWithoutWorker(database.url, apiKey);
    const processes: GatewayProcess[] = [];
    // With Redis, every status change both instances publish reaches this listener too.
    const listener = redisUrl ? createGatewayPubSub(redisUrl) : null;
    const published: string[] = [];
    try {
      if (listener) {
        const stream = listener.subscribe("session-status:project", seeder.context.projectId);
        void (async () => {
          for await (const change of stream) published.push(change.session.id);
        })();
      }
      const { services, context } = seeder;
      const ids: string[] = [];
      for (let index = 0; index < SESSIONS; index++) {
        const session = await services.sessions.create(context, "collect", { timeout: 3600, webhooks: [{ url: receiver.url() }] });
        ids.push(session.id);
      }
      const environment = { EXPIRY_SWEEP_INTERVAL_SECONDS: "1" };
      for (let instance = 0; instance < 2; instance++) {
        processes.push(await startGatewayProcess(database.url, apiKey, redisUrl, environment));
      }
      // Every session falls due at the same moment, so both sweepers find all of them and race.
      await services.database.read((manager) =>
        manager.update(Session, { id: In(ids) }, { expiredAt: new Date(Date.now() - 60_000) }),
      );

      const sessions = () => services.database.read((manager) => manager.findBy(Session, { id: In(ids) }));
      await waitFor("every session to be stored as expired", async () =>
        (await sessions()).every((session) => session.status === "expired"),
      );
      const announcements = await services.database.read((manager) =>
        manager.findBy(WebhookInvocation, { sessionId: In(ids), event: "status_changed" }),
      );
      expect(announcements.map((row) => row.sessionId).sort()).toEqual([...ids].sort());

      await receiver.waitFor((received) => received.length >= SESSIONS, 60_000);
      await waitFor("every announcement to be delivered", async () => {
        const rows = await services.database.read((manager) => manager.findBy(WebhookInvocation, { sessionId: In(ids) }));
        return rows.every((row) => row.status === "succeeded");
      });
      const delivered = receiver.received.filter((request) => request.json?.event === "status_changed");
      expect(delivered.map((request) => request.json.id).sort()).toEqual([...ids].sort());
      expect(delivered.every((request) => request.json.payload.collect_session_status === "expired")).toBe(true);

      // A sweep logs its count once its whole batch is through, which can be after the last expiry is
      // delivered; a graceful stop waits for the sweep in progress, and the output is complete once closed.
      for (const { child } of processes) expect(await stopProcess(child)).toBe(0);
      const expiredBy = processes.map((gateway) =>
        logLines(gateway.output())
          .filter((line) => line.msg === "expired sessions")
          .reduce((total, line) => total + Number(line.expired), 0),
      );
      expect(expiredBy[0] + expiredBy[1]).toBe(SESSIONS);

      if (listener) {
        await waitFor("every change to be published", () => published.length >= SESSIONS);
        expect([...published].sort()).toEqual([...ids].sort());
      }
    } finally {
      for (const { child } of processes) expect(await stopProcess(child)).toBe(0);
      await listener?.close();
      await seeder.close();
      await receiver.stop();
      await database.drop();
    }
  });
});
