import type { Middleware } from "koa";
import type { Config } from "../config.js";
import type { RateLimiter } from "../http/rate-limit.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services/index.js";
import { authInfoOperations } from "./auth-info.routes.js";
import { createDocsRoutes } from "./docs.routes.js";
import { buildOpenApiDocument } from "./openapi-document.js";
import type { RestOperation } from "./rest-operation.js";
import { createRestRouter } from "./rest-router.js";
import { SchemaRegistry } from "./schema-registry.js";
import { sessionOperations } from "./sessions.routes.js";
import { webhookOperations } from "./webhooks.routes.js";

export interface RestApiDependencies {
  config: Config;
  services: Services;
  logger: Logger;
  rateLimiter: RateLimiter;
}

/**
 * Every REST operation. More routes join by adding their operations here: for a session's sub-resources,
 * declare paths under `sessionPath(kind)` with `SESSION_PARAMETER` (sessions.routes.ts), name request and
 * response schemas stored in schema/json, and throw DomainError or HttpProblem; the router validates,
 * authenticates, renders problems, and /openapi.json documents them.
 */
export function restOperations(services: Services): RestOperation[] {
  return [
    ...authInfoOperations(),
    ...sessionOperations("verify", services.sessions),
    ...sessionOperations("collect", services.sessions),
    ...webhookOperations("verify", services.webhooks),
    ...webhookOperations("collect", services.webhooks),
  ];
}

/** The REST layer (`/api/v1/...`) with its documentation (`/openapi.json`, `/docs`, `/schemas/<Name>.json`). */
export function createRestApi(dependencies: RestApiDependencies): Middleware {
  const { config, services, logger, rateLimiter } = dependencies;
  const schemas = SchemaRegistry.load();
  const operations = restOperations(services);
  const router = createRestRouter({
    operations,
    schemas,
    authenticate: (apiKey) => services.apiKeys.authenticate(apiKey),
    limitRate: (projectId) => rateLimiter.consume(projectId),
    publicUrl: config.publicUrl,
    logger,
  });
  const docs = createDocsRoutes({ schemas, openApiDocument: buildOpenApiDocument(operations, schemas), publicUrl: config.publicUrl });
  return (context, next) => docs(context, () => router(context, next));
}
