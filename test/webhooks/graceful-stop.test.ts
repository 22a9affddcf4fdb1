import { describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { WebhookInvocation } from "../../src/db/entities/index.js";
import { startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, databaseKinds } from "../support/databases.js";
import { testConfig } from "../support/gateway.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

describe.each(databaseKinds())("stopping a gateway while a delivery is in flight, on %s", (kind) => {
  it("hands the delivery back unrecorded, so the next start sends it at once as the same attempt", async () => {
    const database = await createTestDatabase(kind);
    const config = testConfig(database.url);
    const logger = createLogger(config.logLevel);
    const receiver = await WebhookReceiver.start(() => "hang");
    const reader = { database: null as Database | null };
    try {
      const first = await startGateway(config, logger);
      const { projectId, apiKeyId } = await first.services.apiKeys.authenticate(config.bootstrapApiKey);
      const context = { projectId, apiKeyId };
      const session = await first.services.sessions.create(context, "collect", { multiConnection: true, webhooks: [{ url: receiver.url() }] });
      await first.services.sessions.complete(context, "collect", session.id);
      const [hung] = await receiver.waitFor((received) => received.length === 1);
      await first.stop();

      reader.database = await Database.connect(database.url);
      const [handedBack] = await reader.database.read((manager) => manager.find(WebhookInvocation));
      expect(handedBack).toMatchObject({ status: "pending", attemptCount: 0, leaseOwner: null, leaseUntil: null });

      receiver.respondWith(() => ({ status: 204 }));
      const second = await startGateway(config, logger);
      try {
        const [, resent] = await receiver.waitFor((received) => received.length === 2);
        expect(resent.json).toMatchObject({ webhook_invocation_id: hung.json.webhook_invocation_id, attempt: 1 });
        await expect
          .poll(async () => (await second.services.webhooks.invocations(context, session.webhooks[0].id, { offset: 0, limit: 1 })).items[0])
          .toMatchObject({ status: "succeeded", attempts: [{ attempt: 1, responseStatus: 204 }] });
      } finally {
        await second.stop();
      }
    } finally {
      await reader.database?.close();
      await receiver.stop();
      await database.drop();
    }
  });
});
