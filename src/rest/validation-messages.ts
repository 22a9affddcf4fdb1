import type { ErrorObject } from "ajv";
import { renderPath } from "../domain/errors.js";
import { type ErrorDetail, reportableValue } from "./problem-details.js";

/** Huma's messages for string formats, so clients of the hosted API read the same text. */
const FORMAT_MESSAGES: Record<string, string> = {
  "date-time": "expected string to be RFC 3339 date-time",
  date: "expected string to be RFC 3339 date",
  time: "expected string to be RFC 3339 time",
  uri: "expected string to be RFC 3986 uri",
  uuid: "expected string to be RFC 4122 uuid",
  email: "expected string to be RFC 5322 email",
  hostname: "expected string to be RFC 5890 hostname",
  ipv4: "expected string to be RFC 2673 ipv4",
  ipv6: "expected string to be RFC 2373 ipv6",
};

/** Resolves a JSON pointer against the data, so array positions render as `[0]` and names as `.name`. */
function pathOf(data: unknown, pointer: string): { path: Array<string | number>; value: unknown } {
  const path: Array<string | number> = [];
  let current: unknown = data;
  if (pointer === "") return { path, value: current };
  for (const raw of pointer.slice(1).split("/")) {
    const segment = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current = current !== null && typeof current === "object" ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return { path, value: current };
}

function typeMessage(type: unknown): string {
  const types = (Array.isArray(type) ? type : String(type).split(",")).filter((name) => name !== "null");
  return `expected ${types[0] ?? "null"}`;
}

function messageOf(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "required":
      return `expected required property ${String(params.missingProperty)} to be present`;
    case "additionalProperties":
    case "unevaluatedProperties":
      return "unexpected property";
    case "type":
      return typeMessage(params.type);
    case "enum":
      return `expected value to be one of "${(params.allowedValues as unknown[]).join(", ")}"`;
    case "const":
      return `expected value to be one of "${String(params.allowedValue)}"`;
    case "format":
      return FORMAT_MESSAGES[String(params.format)] ?? `expected string to be ${String(params.format)}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `expected number ${String(params.comparison)} ${String(params.limit)}`;
    case "multipleOf":
      return `expected number to be a multiple of ${String(params.multipleOf)}`;
    case "minLength":
      return `expected length >= ${String(params.limit)}`;
    case "maxLength":
      return `expected length <= ${String(params.limit)}`;
    case "minItems":
      return `expected array length >= ${String(params.limit)}`;
    case "maxItems":
      return `expected array length <= ${String(params.limit)}`;
    case "minProperties":
      return `expected object with at least ${String(params.limit)} properties`;
    case "maxProperties":
      return `expected object with at most ${String(params.limit)} properties`;
    case "uniqueItems":
      return "expected array items to be unique";
    case "pattern":
      return `expected string to match pattern ${String(params.pattern)}`;
    default:
      return error.message ?? "invalid value";
  }
}

/** Ajv's errors as Huma reports them: `body.keys[0].public_key`, "expected string", "unexpected property". */
export function humaErrors(errors: readonly ErrorObject[], data: unknown, root: string): ErrorDetail[] {
  return errors.map((error) => {
    const params = error.params as Record<string, unknown>;
    const located = pathOf(data, error.instancePath);
    let path = located.path;
    let value: unknown = located.value;
    if (error.keyword === "additionalProperties" || error.keyword === "unevaluatedProperties") {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      path = [...path, name];
      value = (located.value as Record<string, unknown>)[name];
    } else if (error.keyword === "required") {
      value = undefined;
    }
    const reported = reportableValue(value);
    return {
      location: renderPath(root, path),
      message: messageOf(error),
      ...(reported === undefined ? {} : { value: reported }),
    };
  });
}
