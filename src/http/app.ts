import Koa from "koa";
import type { Config } from "../config.js";
import type { Logger } from "../logger.js";
import { createRestApi } from "../rest/rest-api.js";
import type { Services } from "../services/index.js";

export interface HttpDependencies {
  config: Config;
  services: Services;
  logger: Logger;
  /** Checks beyond the database that /readyz waits for (Redis, when configured). */
  readinessChecks: Array<() => Promise<boolean>>;
  /** `/graphql` over HTTP; Apollo starts before the app is composed (src/graphql/graphql-server.ts). */
  graphql: Koa.Middleware;
}

/** Koa composition: health, then REST, GraphQL and docs as they are mounted. */
export function createHttpApp(dependencies: HttpDependencies): Koa {
  const { services, readinessChecks } = dependencies;
  const app = new Koa({ proxy: false });
  app.use(async (context, next) => {
    if (context.path === "/healthz") {
      context.body = { status: "ok" };
      return;
    }
    if (context.path === "/readyz") {
      const checks = await Promise.all([services.database.isReachable(), ...readinessChecks.map((check) => check())]);
      const ready = checks.every(Boolean);
      context.status = ready ? 200 : 503;
      context.body = { status: ready ? "ready" : "unavailable" };
      return;
    }
    await next();
  });
  app.use(dependencies.graphql);
  app.use(createRestApi(dependencies));
  return app;
}
