import type { Middleware } from "koa";
import type { GatewayMetrics } from "../metrics.js";

/** Paths served outside any router keep their own label; everything else unmatched shares one. */
const FIXED_ROUTES = new Set(["/healthz", "/readyz", "/metrics", "/graphql", "/openapi.json"]);

/**
 * The route label of a request: the pattern its router matched (`ctx.state.route`, or @koa/router's
 * `_matchedRoute`) rather than the path, so ids do not multiply the series.
 */
export function routeLabel(context: { path: string; _matchedRoute?: unknown; state?: { route?: unknown } }): string {
  if (typeof context.state?.route === "string") return context.state.route;
  if (typeof context._matchedRoute === "string") return context._matchedRoute;
  if (FIXED_ROUTES.has(context.path)) return context.path;
  if (context.path === "/docs" || context.path.startsWith("/docs/")) return "/docs";
  if (context.path.startsWith("/schemas/")) return "/schemas/*";
  return "unmatched";
}

/** `GET /metrics` in the Prometheus text format. */
export function metricsEndpoint(metrics: GatewayMetrics): Middleware {
  return async (context, next) => {
    if (context.path !== "/metrics") return next();
    if (context.method !== "GET" && context.method !== "HEAD") {
      context.status = 405;
      context.set("allow", "GET, HEAD");
      return;
    }
    context.type = metrics.contentType;
    context.body = await metrics.render();
  };
}
