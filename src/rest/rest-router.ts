import type { Context, Middleware } from "koa";
import { DomainError } from "../domain/errors.js";
import type { ClientAddressState } from "../http/client-address.js";
import type { Logger } from "../logger.js";
import { type ErrorDetail, HttpProblem, problemBody, problemFromDomainError } from "./problem-details.js";
import { checkDeclaredLength, readJsonBody } from "./request-body.js";
import { readParameters } from "./request-parameters.js";
import type { CallerContext, RestOperation, RestResult } from "./rest-operation.js";
import { type SchemaRegistry, schemaUrl } from "./schema-registry.js";

export interface RestRouterDependencies {
  operations: readonly RestOperation[];
  schemas: SchemaRegistry;
  /** `x-api-key` -> the caller; throws DomainError UNAUTHENTICATED. */
  authenticate(apiKey: string): Promise<CallerContext>;
  /** RATE_LIMIT_PER_MINUTE: counts the caller's request; throws DomainError RATE_LIMITED past the limit. */
  limitRate(projectId: string): Promise<void>;
  /** PUBLIC_URL; when null, `$schema` URLs use the request's origin. */
  publicUrl: string | null;
  logger: Logger;
}

interface CompiledRoute {
  operation: RestOperation;
  /** Literal segments, and `{name}` for a parameter. */
  segments: string[];
}

/** The path's segments without the trailing slash; null for an empty segment (`//`) or bad percent-encoding. */
function segmentsOf(path: string): string[] | null {
  const trimmed = path.endsWith("/") ? path.slice(0, -1) : path;
  const segments = trimmed.split("/").slice(1);
  try {
    const decoded = segments.map((segment) => decodeURIComponent(segment));
    return decoded.some((segment) => segment === "") ? null : decoded;
  } catch {
    return null;
  }
}

function matchRoute(route: CompiledRoute, segments: string[]): Record<string, string> | null {
  if (route.segments.length !== segments.length) return null;
  const values: Record<string, string> = {};
  for (const [index, expected] of route.segments.entries()) {
    if (expected.startsWith("{")) values[expected.slice(1, -1)] = segments[index];
    else if (expected !== segments[index]) return null;
  }
  return values;
}

/**
 * The REST pipeline, in SPEC §4's order: unknown route 404 (405 for a known path), 401, 413, unparseable 400,
 * then every parameter and body violation in one 422, then the handler, whose DomainErrors become problems.
 * Serves `/api/...` only; any other path goes to the next middleware.
 */
export function createRestRouter(dependencies: RestRouterDependencies): Middleware {
  const { schemas, logger } = dependencies;
  const routes: CompiledRoute[] = dependencies.operations.map((operation) => ({
    operation,
    segments: segmentsOf(operation.path) ?? [],
  }));

  const findOperation = (context: Context) => {
    const segments = segmentsOf(context.path);
    const candidates = segments
      ? routes.flatMap((route) => {
          const values = matchRoute(route, segments);
          return values ? [{ operation: route.operation, values }] : [];
        })
      : [];
    const found = candidates.find((candidate) => candidate.operation.method === context.method.toLowerCase());
    if (found) return found;
    if (candidates.length === 0) throw new HttpProblem(404, "no such resource");
    const allowed = [...new Set(candidates.map((candidate) => candidate.operation.method.toUpperCase()))].join(", ");
    throw new HttpProblem(405, `${context.method} is not allowed here; use ${allowed}`, [], { allow: allowed });
  };

  const toProblem = (error: unknown, context: Context): HttpProblem => {
    if (error instanceof HttpProblem) return error;
    if (error instanceof DomainError) return problemFromDomainError(error);
    logger.error({ err: error, method: context.method, path: context.path }, "REST request failed");
    return new HttpProblem(500, "an unexpected error occurred");
  };

  return async (context, next) => {
    if (context.path !== "/api" && !context.path.startsWith("/api/")) return next();
    const baseUrl = baseUrlOf(context, dependencies.publicUrl);
    context.set("x-content-type-options", "nosniff");
    try {
      checkDeclaredLength(context.req);
      const { operation, values: pathValues } = findOperation(context);
      // The route pattern labels the request in metrics and logs, so ids do not multiply the series.
      context.state.route = operation.path;
      const caller = await dependencies.authenticate(context.get("x-api-key"));
      await dependencies.limitRate(caller.projectId);
      const rawBody = operation.requestBody ? await readJsonBody(context.req) : undefined;
      const { values, errors } = readParameters(operation.parameters ?? [], pathValues, context.query, schemas);
      let body = rawBody;
      if (operation.requestBody) {
        if (rawBody !== undefined) errors.push(...schemas.validate(operation.requestBody.schema, rawBody, "body"));
        else if (operation.requestBody.required) errors.push({ location: "body", message: "request body is required" });
        else body = {};
      }
      if (errors.length > 0) throw HttpProblem.validation([...errors, ...ruleErrorsBeside(operation, rawBody, errors)]);
      respond(context, await operation.handle({ context: caller, parameters: values, body }), baseUrl);
    } catch (error) {
      respondWithProblem(context, toProblem(error, context), baseUrl);
    }
  };
}

/**
 * Rule errors of the parts of a body that passed their schema, none where a shape error already stands:
 * a property with a shape error is left out, and an array item with one is replaced by null so the other
 * items keep their positions.
 */
function ruleErrorsBeside(operation: RestOperation, body: unknown, shapeErrors: readonly ErrorDetail[]): ErrorDetail[] {
  if (!operation.ruleErrors || !isPlainObject(body)) return [];
  const shapeLocations = shapeErrors.map((error) => error.location);
  if (shapeLocations.includes("body")) return [];
  const validPart: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const location = `body.${name}`;
    const inside = shapeLocations.filter((other) => covers(location, other));
    if (inside.length === 0) {
      validPart[name] = value;
      continue;
    }
    // `body.keys[3].name` -> 3; an error on the property itself (`body.keys`) -> NaN.
    const itemIndexes = inside.map((other) => Number.parseInt(other.slice(location.length + 1), 10));
    if (!Array.isArray(value) || itemIndexes.some((index) => Number.isNaN(index))) continue;
    const broken = new Set(itemIndexes);
    validPart[name] = value.map((item, index) => (broken.has(index) ? null : item));
  }
  return operation
    .ruleErrors(validPart)
    .filter((error) => !shapeLocations.some((location) => covers(location, error.location) || covers(error.location, location)));
}

/** Whether `other` is `location` or lies inside it. */
function covers(location: string, other: string): boolean {
  return other === location || other.startsWith(`${location}.`) || other.startsWith(`${location}[`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The base of `$schema` URLs: PUBLIC_URL when set, else the origin the client-address middleware worked out
 * (X-Forwarded-* from TRUSTED_PROXIES), else the request's own scheme and host (Koa 3's `origin` is the
 * Origin header). A Host that is not a plain host[:port] is not repeated.
 */
export function baseUrlOf(context: Context, publicUrl: string | null): string {
  if (publicUrl) return publicUrl;
  const { origin } = context.state as Partial<ClientAddressState>;
  if (origin) return origin;
  const host = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/.test(context.host) ? context.host : "localhost";
  return `${context.protocol}://${host}`;
}

function describedBy(context: Context, schema: string): void {
  context.set("link", `</schemas/${schema}.json>; rel="describedBy"`);
}

function respond(context: Context, result: RestResult, baseUrl: string): void {
  context.status = result.status;
  if (result.body === undefined) return;
  if (result.schema) describedBy(context, result.schema);
  context.type = "application/json";
  context.body = result.schema ? { $schema: schemaUrl(baseUrl, result.schema), ...result.body } : result.body;
}

/** problem+json, never HTML and never a stack trace. */
export function respondWithProblem(context: Context, problem: HttpProblem, baseUrl: string): void {
  context.status = problem.status;
  for (const [name, value] of Object.entries(problem.headers)) context.set(name, value);
  describedBy(context, "ErrorModel");
  context.type = "application/problem+json";
  context.body = { $schema: schemaUrl(baseUrl, "ErrorModel"), ...problemBody(problem) };
}
