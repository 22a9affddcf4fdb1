import { generateKeyPairSync } from "node:crypto";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { expect } from "vitest";
import type { TestResponse } from "../../support/gateway.js";

export { ed25519KeyLine } from "../../support/ssh-activity.js";

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** A fresh RSA public key as SPKI PEM. */
export function rsaKeyPem(bits = 2048): string {
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: bits });
  return publicKey.export({ format: "pem", type: "spki" }).toString();
}

/** Huma's problem titles: Go's reason phrases. */
const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Request Entity Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Entity",
  429: "Too Many Requests",
  500: "Internal Server Error",
};

/** Asserts a problem+json answer with the reason phrase as title; `errors`, when given, must match exactly. */
export function expectProblem(
  response: TestResponse,
  status: number,
  expected: { detail?: string; errors?: Array<{ location: string; message: string; value?: unknown }> } = {},
): void {
  expect({ status: response.status, body: response.json }).toMatchObject({ status, body: { status } });
  expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(response.headers.get("link")).toBe('</schemas/ErrorModel.json>; rel="describedBy"');
  expect(response.json.title).toBe(TITLES[status]);
  expect(response.json.$schema).toMatch(/^https?:\/\/[^/]+\/schemas\/ErrorModel\.json$/);
  expect(response.text).not.toMatch(/<html|\bat .+\.(ts|js):\d+/i);
  if (expected.detail !== undefined) expect(response.json.detail).toBe(expected.detail);
  if (expected.errors !== undefined) expect(response.json.errors).toEqual(expected.errors);
}

/**
 * Validates response bodies against the JSON Schema their `$schema` URL serves, fetching referenced schemas
 * from the gateway as a client would: proves the served schemas describe what the API answers.
 */
export class ServedSchemas {
  private readonly ajv = new Ajv2020({
    allErrors: true,
    loadSchema: async (uri) => (await fetch(uri)).json() as Promise<Record<string, unknown>>,
  });
  private readonly validators = new Map<string, Promise<ValidateFunction>>();

  constructor() {
    addFormats(this.ajv);
  }

  async expectValid(body: { $schema?: unknown }): Promise<void> {
    expect(typeof body.$schema).toBe("string");
    const url = body.$schema as string;
    let validator = this.validators.get(url);
    if (!validator) {
      validator = fetch(url).then(async (response) => {
        expect(response.status).toBe(200);
        return this.ajv.compileAsync((await response.json()) as Record<string, unknown>);
      });
      this.validators.set(url, validator);
    }
    const validate = await validator;
    validate(body);
    expect(validate.errors ?? []).toEqual([]);
  }
}

/** RFC 3339 in UTC, as every REST time reads. */
export const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
