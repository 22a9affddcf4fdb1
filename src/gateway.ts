import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config.js";
import { Database } from "./db/database.js";
import { startGraphqlServer } from "./graphql/graphql-server.js";
import { type SubscriptionServer, startSubscriptionServer } from "./graphql/subscriptions/subscription-server.js";
import { createHttpApp } from "./http/app.js";
import { trackHttpConnections } from "./http/http-drain.js";
import { GatewayMetrics } from "./metrics.js";
import { RateLimiter } from "./http/rate-limit.js";
import type { Logger } from "./logger.js";
import type { HostKey } from "./services/host-keys.service.js";
import { startExpirySweeper } from "./services/expiry-sweeper.js";
import { createServices, type Services } from "./services/index.js";
import { createGatewayPubSub } from "./services/pubsub.js";
import { RetentionService, startRetentionPurge } from "./services/retention.service.js";
import { startSshServer } from "./ssh/ssh-server.js";
import { type DnsLookup, systemLookup, webhookTargetProblem } from "./webhooks/address-guard.js";
import { DeliveryWorker } from "./webhooks/delivery-worker.js";

export interface Gateway {
  readonly config: Config;
  readonly services: Services;
  readonly hostKeys: HostKey[];
  readonly httpUrl: string;
  readonly httpPort: number;
  readonly sshPort: number;
  readonly metrics: GatewayMetrics;
  /** graphql-ws on `/graphql`: how many distinct executions each event costs. */
  readonly subscriptions: Pick<SubscriptionServer, "groupCount">;
  /**
   * Stops accepting; HTTP requests and SSH connections in progress get SHUTDOWN_GRACE_SECONDS to finish, then
   * subscribers are closed (1001) and everything else is shut down.
   */
  stop(): Promise<void>;
}

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;
/** How long subscribers get to answer the 1001 close before their sockets are dropped. */
const SUBSCRIBER_CLOSE_MS = 2_000;

/** What only code can pass: tests inject name resolution for the webhook address guard, and a shorter key re-check. */
export interface GatewayOptions {
  /** Name resolution for the webhook address guard; tests point public names at test receivers with it. */
  dnsLookup?: DnsLookup;
  /** How often open WebSocket connections re-check their API key (default 5 s). */
  subscriptionKeyRecheckMs?: number;
}

/**
 * Start-up order: database (migrations and bootstrap under a lock) -> services -> host keys -> HTTP -> SSH ->
 * background tasks (expiry sweeper, retention purge).
 * Used by `main.ts` and by the tests, which start whole gateways on free ports.
 */
export async function startGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const database = await Database.connect(config.databaseUrl);
  const stops: Array<() => Promise<void>> = [() => database.close()];
  // Shutdown steps. First every listener stops accepting and what is in progress (HTTP requests, SSH
  // connections) gets the grace period to finish, together; subscribers still see what that changes. Then
  // `closers` run in order (subscriptions with 1001, leftover HTTP connections), then `stops`.
  const drains: Array<(graceMs: number) => Promise<void>> = [];
  const closers: Array<() => Promise<void>> = [];
  try {
    const applied = await database.migrate();
    if (applied.length > 0) logger.info({ migrations: applied }, "migrations applied");
    const pubSub = createGatewayPubSub(config.redisUrl, logger);
    stops.unshift(() => pubSub.close());
    const metrics = new GatewayMetrics();
    const rateLimiter = RateLimiter.create(config.rateLimitPerMinute, config.redisUrl, logger);
    stops.unshift(() => rateLimiter.close());
    const lookup = options.dnsLookup ?? systemLookup;
    const services = createServices(database, pubSub, (url) => webhookTargetProblem(url, config.webhookAllowPrivate, lookup));
    const webhookWorker = new DeliveryWorker(services.webhookDeliveries, {
      allowPrivate: config.webhookAllowPrivate,
      lookup,
      logger,
      onAttempt: (succeeded) => metrics.recordWebhookDelivery(succeeded ? "succeeded" : "failed"),
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
    const graphql = await startGraphqlServer({
      services,
      config,
      logger,
      sshPort: () => boundSshPort,
      limitRate: (projectId) => rateLimiter.consume(projectId),
    });
    stops.unshift(() => graphql.stop());
    const httpServer = http.createServer();
    const httpConnections = trackHttpConnections(httpServer);
    const readinessChecks: Record<string, () => Promise<boolean>> = config.redisUrl ? { redis: () => pubSub.isReachable() } : {};
    const app = createHttpApp({ config, services, logger, readinessChecks, graphql: graphql.middleware, metrics, rateLimiter });
    httpServer.on("request", app.callback());
    const subscriptions = startSubscriptionServer({
      httpServer,
      graphql,
      services,
      logger,
      limitRate: (projectId) => rateLimiter.consume(projectId),
      subscriptionOpened: () => metrics.subscriptionOpened(),
      keyRecheckMs: options.subscriptionKeyRecheckMs,
    });
    closers.push(() => subscriptions.drain(SUBSCRIBER_CLOSE_MS));
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    drains.push((graceMs) => {
      httpConnections.stopAccepting();
      return httpConnections.requestsFinished(graceMs);
    });
    closers.push(() => httpConnections.close());
    const httpPort = (httpServer.address() as AddressInfo).port;
    const sshServer = await startSshServer({ config, logins: services.sshLogins, hostKeys, logger, metrics });
    drains.push((graceMs) => sshServer.close(graceMs));
    boundSshPort = sshServer.port;
    const sweeper = startExpirySweeper(services.sessions, config.expirySweepIntervalSeconds * 1000, logger);
    stops.unshift(() => sweeper.stop());
    const retention = new RetentionService(database, config);
    if (retention.enabled) {
      const purge = startRetentionPurge(retention, RETENTION_INTERVAL_MS, logger);
      stops.unshift(() => purge.stop());
    }
    const visibleHost = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    return {
      config,
      services,
      hostKeys,
      httpPort,
      sshPort: sshServer.port,
      metrics,
      subscriptions,
      httpUrl: `http://${visibleHost.includes(":") ? `[${visibleHost}]` : visibleHost}:${httpPort}`,
      stop: async () => {
        // Deliveries in flight are handed back first, while the database is certainly still open.
        await webhookWorker.stop();
        await Promise.all(drains.map((drain) => drain(config.shutdownGraceSeconds * 1000)));
        for (const close of closers) await close();
        for (const stop of stops) await stop();
      },
    };
  } catch (error) {
    await Promise.all(drains.map((drain) => drain(0).catch(() => undefined)));
    for (const close of closers) await close().catch(() => undefined);
    for (const stop of stops) await stop().catch(() => undefined);
    throw error;
  }
}
