import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import type { Logger } from "../logger.js";
import type { GatewayMetrics } from "../metrics.js";
import { routeLabel } from "./metrics.js";

/** What the request-logging middleware puts on `ctx.state` for everything after it. */
export interface RequestLogState {
  requestId: string;
  logger: Logger;
}

/** An incoming id is echoed into logs and headers, so only a short, plain token is believed. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's `x-request-id` when it is a plain token, else a fresh UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && ACCEPTABLE_REQUEST_ID.test(value) ? value : randomUUID();
}

/**
 * Outermost middleware: gives each request an id (echoed as `x-request-id`) and a child logger, then
 * writes one JSON line when it ends and records it in the metrics. Headers are never logged, so API
 * keys and webhook secrets cannot leak through them; the query string is left out for the same reason.
 */
export function requestLogging(logger: Logger, metrics: GatewayMetrics): Middleware {
  return async (context, next) => {
    const started = process.hrtime.bigint();
    const requestId = requestIdOf(context.get("x-request-id") || undefined);
    const child = logger.child({ requestId });
    Object.assign(context.state as RequestLogState, { requestId, logger: child });
    context.set("x-request-id", requestId);
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = failure === undefined ? context.status : statusOfError(failure);
      const route = routeLabel(context);
      metrics.recordHttpRequest(context.method, route, status, seconds);
      const line = {
        method: context.method,
        path: context.path,
        route,
        status,
        durationMs: Math.round(seconds * 1e6) / 1e3,
        ip: context.ip,
        userAgent: context.get("user-agent") || undefined,
      };
      if (status >= 500) child.error({ ...line, err: failure }, "request failed");
      else child.info(line, "request");
    }
  };
}

/** The status Koa will answer for an error that escaped every handler. */
function statusOfError(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400 && status < 600 ? status : 500;
}
