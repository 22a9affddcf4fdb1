import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Middleware } from "koa";
import { HttpProblem } from "./problem-details.js";
import { baseUrlOf, respondWithProblem } from "./rest-router.js";
import type { JsonSchema, SchemaRegistry } from "./schema-registry.js";

const swaggerUiDirectory = path.dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));

/** The Swagger UI files /docs uses, served from the installed package: the page works with no network. */
const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "favicon-32x32.png": "image/png",
  "favicon-16x16.png": "image/png",
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>SSH Verify Gateway REST API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/docs-init.js"></script>
</body>
</html>
`;

// validatorUrl null: Swagger UI would otherwise fetch a badge from validator.swagger.io.
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
`;

const CONTENT_SECURITY_POLICY =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

export interface DocsDependencies {
  schemas: SchemaRegistry;
  openApiDocument: JsonSchema;
  publicUrl: string | null;
}

/** `/openapi.json`, `/docs` (Swagger UI, offline) and `/schemas/<Name>.json`; no API key needed. */
export function createDocsRoutes(dependencies: DocsDependencies): Middleware {
  const { schemas, openApiDocument } = dependencies;
  const assets = new Map(Object.keys(ASSETS).map((file) => [file, readFileSync(path.join(swaggerUiDirectory, file))]));

  return async (context, next) => {
    if (context.method !== "GET" && context.method !== "HEAD") return next();
    const requestPath = context.path;
    if (requestPath === "/openapi.json") {
      context.type = "application/json";
      context.body = openApiDocument;
      return;
    }
    if (requestPath === "/docs" || requestPath === "/docs/") {
      context.set("content-security-policy", CONTENT_SECURITY_POLICY);
      context.type = "text/html; charset=utf-8";
      context.body = PAGE;
      return;
    }
    if (requestPath === "/docs/docs-init.js") {
      context.type = "text/javascript; charset=utf-8";
      context.body = INIT_SCRIPT;
      return;
    }
    const asset = requestPath.startsWith("/docs/") ? assets.get(requestPath.slice("/docs/".length)) : undefined;
    if (asset) {
      context.type = ASSETS[requestPath.slice("/docs/".length)];
      context.set("cache-control", "public, max-age=3600");
      context.body = asset;
      return;
    }
    const schema = /^\/schemas\/([A-Za-z0-9]+)\.json$/.exec(requestPath)?.[1];
    if (requestPath.startsWith("/schemas/")) {
      const baseUrl = baseUrlOf(context, dependencies.publicUrl);
      if (!schema || !schemas.has(schema)) {
        respondWithProblem(context, new HttpProblem(404, "no such schema"), baseUrl);
        return;
      }
      context.type = "application/json";
      context.body = schemas.served(schema, baseUrl);
      return;
    }
    return next();
  };
}
