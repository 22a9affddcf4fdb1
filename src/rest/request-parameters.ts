import type { ErrorDetail } from "./problem-details.js";
import type { ParameterSpec, ParameterValues } from "./rest-operation.js";
import type { SchemaRegistry } from "./schema-registry.js";

type QueryValue = string | string[] | undefined;

/** The first value of a repeated query parameter, as Go's `url.Values.Get` reads it. */
function firstOf(value: QueryValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Converts, then validates every parameter; all violations come back together for the one 422. */
export function readParameters(
  specs: readonly ParameterSpec[],
  pathValues: Readonly<Record<string, string>>,
  query: Readonly<Record<string, QueryValue>>,
  schemas: SchemaRegistry,
): { values: ParameterValues; errors: ErrorDetail[] } {
  const values: Record<string, string | number | undefined> = {};
  const errors: ErrorDetail[] = [];
  for (const spec of specs) {
    const location = `${spec.in}.${spec.name}`;
    const raw = spec.in === "path" ? pathValues[spec.name] : firstOf(query[spec.name]);
    // An empty query parameter counts as absent, as in Huma.
    if (raw === undefined || raw === "") {
      values[spec.name] = spec.schema.default as string | number | undefined;
      continue;
    }
    let value: string | number = raw;
    if (spec.schema.type === "integer") {
      if (!/^[+-]?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
        errors.push({ location, message: "invalid integer", value: raw.slice(0, 256) });
        continue;
      }
      value = Number(raw);
    }
    const problems = schemas.validateParameter(spec.schema, value, location);
    errors.push(...problems);
    if (problems.length === 0) values[spec.name] = value;
  }
  return { values, errors };
}
