import Koa from "koa";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { createRestApi } from "../rest/rest-api.js";
import type { Services } from "../services/index.js";
import { clientAddress, ClientAddressResolver } from "./client-address.js";
import type { GatewayMetrics } from "../metrics.js";
import { metricsEndpoint } from "./metrics.js";
import type { RateLimiter } from "./rate-limit.js";
import { requestLogging } from "./request-logging.js";

export interface HttpDependencies {
  config: Config;
  services: Services;
  logger: Logger;
  /** Checks beyond the database that /readyz waits for, by name (`redis`, when configured). */
  readinessChecks: Record<string, () => Promise<boolean>>;
  /** `/graphql` over HTTP; Apollo starts before the app is composed (src/graphql/graphql-server.ts). */
  graphql: Koa.Middleware;
  metrics: GatewayMetrics;
  /** RATE_LIMIT_PER_MINUTE per project; REST calls it after authentication. */
  rateLimiter: RateLimiter;
}

/** Koa composition: request log and client address, then health, metrics, GraphQL, REST and docs. */
export function createHttpApp(dependencies: HttpDependencies): Koa {
  const { config, services, logger, metrics, readinessChecks } = dependencies;
  // Koa's own `proxy` would believe X-Forwarded-* from anyone; clientAddress believes TRUSTED_PROXIES only.
  const app = new Koa({ proxy: false });
  // Errors are logged once, with their request id, by requestLogging.
  app.silent = true;
  app.use(requestLogging(logger, metrics));
  app.use(clientAddress(new ClientAddressResolver(config.trustedProxies, config.publicUrl)));
  app.use(async (context, next) => {
    if (context.path === "/healthz") {
      context.body = { status: "ok" };
      return;
    }
    if (context.path === "/readyz") {
      const named = Object.entries({ database: () => services.database.isReachable(), ...readinessChecks });
      const results = await Promise.all(named.map(([, check]) => check().catch(() => false)));
      const ready = results.every(Boolean);
      context.status = ready ? 200 : 503;
      context.body = {
        status: ready ? "ready" : "unavailable",
        checks: Object.fromEntries(named.map(([name], index) => [name, results[index] ? "up" : "down"])),
      };
      return;
    }
    await next();
  });
  app.use(metricsEndpoint(metrics));
  app.use(dependencies.graphql);
  app.use(createRestApi(dependencies));
  return app;
}
