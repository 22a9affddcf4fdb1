import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { Database } from "../../../src/db/database.js";
import type { RequestContext } from "../../../src/services/context.js";
import { createServices, type Services } from "../../../src/services/index.js";
import { createGatewayPubSub } from "../../../src/services/pubsub.js";
import { freePort, startServiceProcess } from "../../support/processes.js";

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output(): string;
}

/** `node dist/src/main.js` on free ports against `databaseUrl`, with loopback webhook targets allowed. */
export async function startWebhookService(databaseUrl: string, apiKey: string, logLevel = "warn"): Promise<ServiceProcess> {
  return startServiceProcess({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    SSH_PORT: String(await freePort()),
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    BOOTSTRAP_API_KEY: apiKey,
    WEBHOOK_ALLOW_PRIVATE: "true",
    LOG_LEVEL: logLevel,
  });
}

export const newBootstrapKey = () => `test_${randomBytes(16).toString("hex")}`;

/**
 * The service layer on the same database (migrated, with the bootstrap key) from the test process, with no delivery worker: the changes it makes
 * write outbox rows that only the service processes deliver, as another API-only instance would.
 */
export async function connectWithoutWorker(databaseUrl: string, apiKey: string) {
  const database = await Database.connect(databaseUrl);
  await database.migrate();
  const pubSub = createGatewayPubSub(null);
  const services: Services = createServices(database, pubSub, async () => null);
  await database.withExclusiveLock("sshverify:bootstrap", () => services.apiKeys.ensureBootstrapKey(apiKey));
  const { projectId, apiKeyId } = await services.apiKeys.authenticate(apiKey);
  const context: RequestContext = { projectId, apiKeyId };
  return {
    services,
    context,
    close: async () => {
      await pubSub.close();
      await database.close();
    },
  };
}

/** Log lines of a service process that report a delivered webhook, by invocation id. */
export function deliveredInvocations(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => line.includes('"webhook delivered"'))
    .map((line) => (JSON.parse(line) as { invocation: string }).invocation);
}
