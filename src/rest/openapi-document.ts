import { reasonPhrase } from "./problem-details.js";
import type { RestOperation } from "./rest-operation.js";
import type { JsonSchema, SchemaRegistry } from "./schema-registry.js";

const reference = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A stored schema as an OpenAPI component: no `$schema`, and `"X.json"` refs pointing at `#/components/schemas/X`. */
function toComponent(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((item) => toComponent(item, false));
  if (value === null || typeof value !== "object") return value;
  const result: JsonSchema = {};
  for (const [key, item] of Object.entries(value)) {
    if (top && key === "$schema") continue;
    result[key] = key === "$ref" && typeof item === "string" ? reference(item.replace(/\.json$/, "")).$ref : toComponent(item, false);
  }
  return result;
}

function errorStatusesOf(operation: RestOperation): number[] {
  const statuses = new Set<number>([401, 404, 500, ...(operation.errorStatuses ?? [])]);
  if (operation.requestBody) [400, 413, 415, 422].forEach((status) => statuses.add(status));
  if ((operation.parameters ?? []).length > 0) statuses.add(422);
  return [...statuses].sort((a, b) => a - b);
}

function describeOperation(operation: RestOperation) {
  const linkHeader = {
    Link: { description: "`</schemas/<Name>.json>; rel=\"describedBy\"`", schema: { type: "string" } },
  };
  const responses: Record<string, unknown> = {};
  for (const response of operation.responses) {
    responses[String(response.status)] = response.schema
      ? { description: response.description, headers: linkHeader, content: { "application/json": { schema: reference(response.schema) } } }
      : { description: response.description };
  }
  for (const status of errorStatusesOf(operation)) {
    responses[String(status)] = {
      description: reasonPhrase(status),
      headers: linkHeader,
      content: { "application/problem+json": { schema: reference("ErrorModel") } },
    };
  }
  const body = operation.requestBody;
  const bodyTypes = operation.method === "patch" ? ["application/json", "application/merge-patch+json"] : ["application/json"];
  return {
    operationId: operation.operationId,
    summary: operation.summary,
    tags: [operation.tag],
    ...(operation.parameters?.length
      ? {
          parameters: operation.parameters.map((parameter) => ({
            name: parameter.name,
            in: parameter.in,
            description: parameter.description,
            required: parameter.in === "path",
            schema: parameter.schema,
          })),
        }
      : {}),
    ...(body
      ? {
          requestBody: {
            required: body.required,
            ...(body.description ? { description: body.description } : {}),
            content: Object.fromEntries(bodyTypes.map((type) => [type, { schema: reference(body.schema) }])),
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of the REST API, assembled from the operations and the served JSON Schemas. */
export function buildOpenApiDocument(operations: readonly RestOperation[], schemas: SchemaRegistry): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations) {
    paths[operation.path] ??= {};
    paths[operation.path][operation.method] = describeOperation(operation);
  }
  const tags = [...new Set(operations.map((operation) => operation.tag))].map((name) => ({ name }));
  return {
    openapi: "3.1.0",
    info: {
      title: "SSH Verify Gateway REST API",
      version: "1",
      description:
        "Prove that a person holds an SSH private key, or collect the public keys their SSH client holds. " +
        "Authenticate with the `x-api-key` header. Paths work with and without the trailing slash; " +
        "errors are RFC 9457 problem details.",
    },
    tags,
    paths,
    components: {
      schemas: Object.fromEntries(schemas.names.map((name) => [name, toComponent(schemas.document(name))])),
      securitySchemes: { apiKey: { type: "apiKey", in: "header", name: "x-api-key" } },
    },
    security: [{ apiKey: [] }],
  };
}
