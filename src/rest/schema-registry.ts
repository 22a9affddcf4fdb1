import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { ErrorDetail } from "./problem-details.js";
import { humaErrors } from "./validation-messages.js";

/** A JSON Schema document as stored in `schema/json/<Name>.json`. */
export type JsonSchema = Record<string, unknown>;

// ajv-formats is CommonJS with its function on `default`; NodeNext types see the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Finds `schema/json` above this file, from `src/rest` (tests) as from `dist/src/rest` (built). */
function defaultSchemaDirectory(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(directory, "schema", "json");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error("schema/json not found above " + fileURLToPath(import.meta.url));
    directory = parent;
  }
}

/**
 * The JSON Schemas of the REST API, loaded once from `schema/json`. The same documents are served at
 * `/schemas/<Name>.json`, assembled into `/openapi.json`, and used to validate requests, so the docs and the
 * validator cannot drift. Files refer to each other by relative name (`"$ref": "VerifySessionKey.json"`).
 */
export class SchemaRegistry {
  private readonly ajv: Ajv2020;
  private readonly parameterValidators = new Map<string, ValidateFunction>();

  private constructor(private readonly documents: ReadonlyMap<string, JsonSchema>) {
    this.ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats(this.ajv);
    // Ids are lowercase or uppercase hex only; ajv-formats would also take a `urn:uuid:` prefix.
    this.ajv.addFormat("uuid", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
    for (const [name, document] of documents) this.ajv.addSchema(document, `${name}.json`);
  }

  static load(directory: string = defaultSchemaDirectory()): SchemaRegistry {
    const documents = new Map<string, JsonSchema>();
    for (const file of readdirSync(directory).sort()) {
      if (!file.endsWith(".json")) continue;
      documents.set(file.slice(0, -".json".length), JSON.parse(readFileSync(path.join(directory, file), "utf8")) as JsonSchema);
    }
    return new SchemaRegistry(documents);
  }

  get names(): string[] {
    return [...this.documents.keys()];
  }

  has(name: string): boolean {
    return this.documents.has(name);
  }

  /** The stored document; throws for an unknown name, which is a programming error. */
  document(name: string): JsonSchema {
    const document = this.documents.get(name);
    if (!document) throw new Error(`no JSON Schema named ${name}`);
    return document;
  }

  /** The document as served: with its absolute `$id`, so its relative `$ref`s resolve against this server. */
  served(name: string, baseUrl: string): JsonSchema {
    const { $schema, ...rest } = this.document(name);
    return { $schema, $id: schemaUrl(baseUrl, name), ...rest };
  }

  /** Every violation of the named schema, as Huma-style details under `root` (`body`). */
  validate(name: string, value: unknown, root: string): ErrorDetail[] {
    const validator = this.ajv.getSchema(`${name}.json`);
    if (!validator) throw new Error(`no JSON Schema named ${name}`);
    return validator(value) ? [] : humaErrors(validator.errors ?? [], value, root);
  }

  /** Validates one parameter value against its (inline) schema; `location` reads `query.limit`. */
  validateParameter(schema: JsonSchema, value: unknown, location: string): ErrorDetail[] {
    const key = JSON.stringify(schema);
    let validator = this.parameterValidators.get(key);
    if (!validator) {
      validator = this.ajv.compile(schema);
      this.parameterValidators.set(key, validator);
    }
    return validator(value) ? [] : humaErrors(validator.errors ?? [], value, location);
  }
}

export function schemaUrl(baseUrl: string, name: string): string {
  return `${baseUrl}/schemas/${name}.json`;
}
