import { describe, expect, it } from "vitest";
import { WebhookAttempt, WebhookInvocation } from "../../src/db/entities/index.js";
import { createTestDatabase, databaseKinds } from "../support/databases.js";
import { stopProcess } from "../support/processes.js";
import {
  connectWithoutWorker,
  deliveredInvocations,
  newBootstrapKey,
  type ServiceProcess,
  startWebhookService,
} from "./support/service-processes.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const SESSIONS = 40;

describe.each(databaseKinds())("two service processes delivering from one outbox, on %s", (kind) => {
  it("never send the same attempt twice, and deliver every invocation", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase(kind);
    const apiKey = newBootstrapKey();
    const firstAttemptAt = new Set<string>();
    // Slow answers keep rows claimed while the other process looks for work; /flaky/* fails its first attempt.
    const receiver = await WebhookReceiver.start((request) => {
      if (request.path.startsWith("/flaky/") && !firstAttemptAt.has(request.path)) {
        firstAttemptAt.add(request.path);
        return { status: 500, delayMs: 250 };
      }
      return { status: 204, delayMs: 250 };
    });
    const seeder = await connectWithoutWorker(database.url, apiKey);
    const processes: ServiceProcess[] = [];
    try {
      const { services, context } = seeder;
      for (let index = 0; index < SESSIONS; index++) {
        const path = index % 2 === 0 ? `/flaky/${index}` : `/steady/${index}`;
        const session = await services.sessions.create(context, "collect", {
          multiConnection: true,
          webhooks: [{ url: receiver.url(path), retries: 1, initialBackoff: 1 }],
        });
        await services.sessions.complete(context, "collect", session.id);
      }
      processes.push(...(await Promise.all([startWebhookService(database.url, apiKey, "debug"), startWebhookService(database.url, apiKey, "debug")])));

      const invocations = () => services.database.read((manager) => manager.find(WebhookInvocation));
      await expect
        .poll(async () => (await invocations()).filter((row) => row.status === "succeeded").length, { timeout: 60_000, interval: 250 })
        .toBe(SESSIONS);

      const sent = receiver.received.map((request) => `${request.headers["webhook-id"]}#${request.json.attempt}`);
      expect(new Set(sent).size).toBe(sent.length);
      expect(sent).toHaveLength(SESSIONS + SESSIONS / 2);
      const recorded = await services.database.read((manager) => manager.find(WebhookAttempt));
      expect(recorded.map((attempt) => `${attempt.invocationId}#${attempt.attempt}`).sort()).toEqual([...sent].sort());

      // Stopped first, so each output holds every line its process wrote.
      for (const { child } of processes) expect(await stopProcess(child)).toBe(0);
      const [first, second] = processes.map((process) => deliveredInvocations(process.output()));
      expect(first.length, "deliveries by the first process").toBeGreaterThan(0);
      expect(second.length, "deliveries by the second process").toBeGreaterThan(0);
      expect(new Set([...first, ...second]).size).toBe(first.length + second.length);
    } finally {
      for (const { child } of processes) await stopProcess(child);
      await seeder.close();
      await receiver.stop();
      await database.drop();
    }
  });
});
