import { describe, expect, it } from "vitest";
import { WebhookInvocation } from "../../src/db/entities/index.js";
import { createTestDatabase, databaseKinds } from "../support/databases.js";
import { stopProcess } from "../support/processes.js";
import { connectWithoutWorker, newBootstrapKey, type ServiceProcess, startWebhookService } from "./support/service-processes.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const HANGING = 12;

describe.each(databaseKinds())("webhook deliveries across a crash, on %s", (kind) => {
  it("delivers every due invocation at least once after the service is SIGKILLed mid-delivery and restarted", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase(kind);
    const apiKey = newBootstrapKey();
    // Until the crash the receiver never answers, except that the first attempt at /retry-later fails at once.
    const receiver = await WebhookReceiver.start((request) => (request.path === "/retry-later" ? { status: 500 } : "hang"));
    const processes: ServiceProcess[] = [];
    let seeder: Awaited<ReturnType<typeof connectWithoutWorker>> | undefined;
    try {
      processes.push(await startWebhookService(database.url, apiKey));
      seeder = await connectWithoutWorker(database.url, apiKey);
      const { services, context } = seeder;
      const complete = async (url: string, retries = 0) => {
        const session = await services.sessions.create(context, "collect", {
          multiConnection: true,
          webhooks: [{ url, retries, initialBackoff: 5 }],
        });
        await services.sessions.complete(context, "collect", session.id);
      };
      await complete(receiver.url("/retry-later"), 1);
      for (let index = 0; index < HANGING; index++) await complete(receiver.url(`/hang/${index}`));
      const invocations = () => services.database.read((manager) => manager.find(WebhookInvocation));

      // The worker holds 8 requests open (its concurrency) and has recorded the failed first attempt at /retry-later.
      await receiver.waitFor((received) => received.filter((request) => request.path.startsWith("/hang/")).length === 8);
      await expect.poll(async () => (await invocations()).find((row) => row.attemptCount === 1)?.nextAttemptAt, { timeout: 10_000 }).toBeTruthy();
      const beforeCrash = await invocations();
      expect(beforeCrash.filter((row) => row.leaseOwner !== null)).toHaveLength(8);
      expect(beforeCrash.every((row) => row.status === "pending")).toBe(true);
      const retryLater = beforeCrash.find((row) => row.attemptCount === 1) as WebhookInvocation;

      await stopProcess(processes[0].child, "SIGKILL");
      const crashedAt = new Date();
      receiver.respondWith(() => ({ status: 204 }));
      processes.push(await startWebhookService(database.url, apiKey));

      // The 8 leased rows come back when their lease runs out (30 s), the rest at once, the retry after its backoff.
      await expect
        .poll(async () => (await invocations()).filter((row) => row.status === "succeeded").length, { timeout: 80_000, interval: 500 })
        .toBe(HANGING + 1);
      for (const row of beforeCrash) {
        const afterCrash = receiver.forInvocation(row.id).filter((request) => request.receivedAt >= crashedAt);
        expect(afterCrash.length, `requests for ${row.id} after the restart`).toBeGreaterThanOrEqual(1);
      }
      expect(receiver.forInvocation(retryLater.id).map((request) => [request.path, request.json.attempt])).toEqual([
        ["/retry-later", 1],
        ["/retry-later", 2],
      ]);
    } finally {
      for (const { child } of processes) {
        if (child.exitCode === null && child.signalCode === null) await stopProcess(child, "SIGKILL");
      }
      await seeder?.close();
      await receiver.stop();
      await database.drop();
    }
  });
});
