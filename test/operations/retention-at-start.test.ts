import { describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { Connection, Session } from "../../src/db/entities/index.js";
import { startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { createTestDatabase, databaseKinds } from "../support/databases.js";
import { testConfig } from "../support/gateway.js";
import { waitFor } from "../support/wait-for.js";

const DAY_MS = 24 * 60 * 60 * 1000;

describe.each(databaseKinds())("retention run by the gateway on %s", (kind) => {
  it("purges on start per RETENTION_DAYS and CONNECTION_IP_RETENTION_DAYS", async () => {
    const testDatabase = await createTestDatabase(kind);
    const config = testConfig(testDatabase.url, { RETENTION_DAYS: "30", CONNECTION_IP_RETENTION_DAYS: "7" });
    const first = await startGateway(config, createLogger("silent"));
    const context = await first.services.apiKeys.authenticate(config.bootstrapApiKey);
    const old = await first.services.sessions.create(context, "collect", {});
    const recent = await first.services.sessions.create(context, "collect", { multiConnection: true });
    const opened = await first.services.sshLogins.openConnection(recent.id, "198.51.100.4", "SSH-2.0-test");
    await first.stop();

    const database = await Database.connect(testDatabase.url);
    let second: Awaited<ReturnType<typeof startGateway>> | undefined;
    try {
      const at = Date.now();
      await database.read((manager) => manager.update(Session, { id: old.id }, { createdAt: new Date(at - 31 * DAY_MS) }));
      await database.read((manager) =>
        manager.update(Connection, { id: opened.connectionId as string }, { createdAt: new Date(at - 8 * DAY_MS) }),
      );

      second = await startGateway(config, createLogger("silent"));
      await waitFor("the old session to be purged", async () =>
        (await database.read((manager) => manager.findOneBy(Session, { id: old.id }))) === null,
      );
      await waitFor("the old connection's IP to be forgotten", async () =>
        (await database.read((manager) => manager.findOneBy(Connection, { id: opened.connectionId as string })))?.ipAddress === null,
      );
      expect(await database.read((manager) => manager.findOneBy(Session, { id: recent.id }))).not.toBeNull();
    } finally {
      await second?.stop();
      await database.close();
      await testDatabase.drop();
    }
  });
});
