import type { ApiKeyInfo } from "../services/api-keys.service.js";
import type { RequestContext } from "../services/context.js";
import type { ErrorDetail } from "./problem-details.js";
import type { JsonSchema } from "./schema-registry.js";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/** A path or query parameter: documented in /openapi.json and validated against the same schema. */
export interface ParameterSpec {
  name: string;
  in: "path" | "query";
  description: string;
  /** `type` is `string` or `integer`; query strings are converted before validation, as Huma does. */
  schema: JsonSchema & { type: "string" | "integer" };
}

/** The authenticated caller: what services take, and the key it authenticated with. */
export type CallerContext = RequestContext & { readonly key: ApiKeyInfo };

export type ParameterValues = Readonly<Record<string, string | number | undefined>>;

/** What a handler gets once the caller is authenticated and every parameter and the body passed their schemas. */
export interface RestRequest {
  readonly context: CallerContext;
  readonly parameters: ParameterValues;
  /** The body, valid against the operation's request schema; undefined when the operation takes none. */
  readonly body: unknown;
}

/** A handler's answer; with `schema`, the body gets `$schema` and the response a `Link: rel="describedBy"`. */
export interface RestResult {
  status: number;
  schema?: string;
  body?: Record<string, unknown>;
}

export interface ResponseSpec {
  status: number;
  description: string;
  /** The JSON Schema name of the body; none for 204. */
  schema?: string;
}

/**
 * One REST operation: routing, validation and documentation in one declaration. The router serves it at
 * `path` with and without the trailing slash, and /openapi.json documents it from the same object.
 */
export interface RestOperation {
  method: HttpMethod;
  /** OpenAPI path template with the trailing slash, e.g. `/api/v1/ssh/verify/sessions/{session}/`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  parameters?: ParameterSpec[];
  requestBody?: { schema: string; required: boolean; description?: string };
  responses: ResponseSpec[];
  /** Error statuses this operation can answer besides the ones every operation can (400, 401, 404, 413, 422). */
  errorStatuses?: number[];
  /**
   * The service's I/O-free rule checks, run on the schema-valid top-level properties of a body that has
   * schema errors, so one 422 lists every schema and rule violation (SPEC §4).
   */
  ruleErrors?(validPart: Record<string, unknown>): ErrorDetail[];
  handle(request: RestRequest): Promise<RestResult>;
}
