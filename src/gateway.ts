import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config.js";
import { Database } from "./db/database.js";
import { startGraphqlServer } from "./graphql/graphql-server.js";
import { createHttpApp } from "./http/app.js";
import type { Logger } from "./logger.js";
import type { HostKey } from "./services/host-keys.service.js";
import { createServices, type ServiceOptions, type Services } from "./services/index.js";
import { createGatewayPubSub } from "./services/pubsub.js";
import { startSshServer } from "./ssh/ssh-server.js";
import { DeliveryWorker } from "./webhooks/delivery-worker.js";

export interface Gateway {
  readonly config: Config;
  readonly services: Services;
  readonly hostKeys: HostKey[];
  readonly httpUrl: string;
  readonly httpPort: number;
  readonly sshPort: number;
  stop(): Promise<void>;
}

/** What only code can pass: tests inject name resolution for the webhook address guard. */
export type GatewayOptions = ServiceOptions;

/**
 * Start-up order: database (migrations and bootstrap under a lock) -> services -> host keys -> HTTP -> SSH.
 * Used by `main.ts` and by the tests, which start whole gateways on free ports.
 */
export async function startGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const database = await Database.connect(config.databaseUrl);
  const stops: Array<() => Promise<void>> = [() => database.close()];
  try {
    const applied = await database.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, "migrations applied");
    const pubSub = createGatewayPubSub(config.redisUrl);
    stops.unshift(() => pubSub.close());
    const services = createServices(database, config, pubSub, options);
    const webhookWorker = new DeliveryWorker(services.webhookDeliveries, {
      allowPrivate: config.webhookAllowPrivate,
      lookup: options.dnsLookup,
      logger,
    });
    webhookWorker.start();
    stops.unshift(() => webhookWorker.stop());
    if (config.bootstrapApiKey) {
      const key = config.bootstrapApiKey;
      await database.withExclusiveLock("sshverify:bootstrap", () => services.apiKeys.ensureBootstrapKey(key));
    }
    const hostKeys = await services.hostKeys.load(config.sshHostKeyFiles);

    // sshCommand shows the port the SSH server is bound to, known only once it listens (SSH_PORT=0 in tests).
    let boundSshPort = config.sshPort;
    const graphql = await startGraphqlServer({ services, config, logger, sshPort: () => boundSshPort });
    stops.unshift(() => graphql.stop());
    const httpServer = http.createServer();
    const app = createHttpApp({ config, services, logger, readinessChecks: [], graphql: graphql.middleware });
    httpServer.on("request", app.callback());
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    stops.unshift(
      () =>
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeIdleConnections();
        }),
    );
    const httpPort = (httpServer.address() as AddressInfo).port;
    const sshServer = await startSshServer({ config, logins: services.sshLogins, hostKeys, logger });
    stops.unshift(() => sshServer.close());
    boundSshPort = sshServer.port;
    const visibleHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    return {
      config,
      services,
      hostKeys,
      httpPort,
      sshPort: sshServer.port,
      httpUrl: `http://${visibleHost.includes(":") ? `[${visibleHost}]` : visibleHost}:${httpPort}`,
      stop: async () => {
        // Deliveries in flight are handed back first, while the database is certainly still open.
        await webhookWorker.stop();
        for (const stop of stops) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}
