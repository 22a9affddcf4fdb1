import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem } from "./support/rest-fixtures.js";

const VERIFY = "/api/v1/ssh/verify/sessions/";
const COLLECT = "/api/v1/ssh/collect/sessions/";

/** Case tables are built when the tests are collected, so the key exists before any hook runs. */
const key = ed25519KeyLine();

type Case = [description: string, body: unknown, errors: Array<{ location: string; message: string; value?: unknown }>];

describe.each(databaseKinds())("REST request validation on %s", (kind) => {
  let gateway: TestGateway;
  let pendingId: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    pendingId = (await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: key }] } })).json.id;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const withKey = (body: Record<string, unknown>) => ({ keys: [{ public_key: key }], ...body });
  const long = (length: number) => "x".repeat(length);

  const schemaCases = (): Case[] => [
    ["a body that is not an object", [1, 2], [{ location: "body", message: "expected object", value: [1, 2] }]],
    ["no keys", {}, [{ location: "body", message: "expected required property keys to be present" }]],
    ["keys that are not an array", { keys: "k" }, [{ location: "body.keys", message: "expected array", value: "k" }]],
    ["an empty keys list", { keys: [] }, [{ location: "body.keys", message: "expected array length >= 1", value: [] }]],
    [
      "more than 100 keys",
      { keys: Array.from({ length: 101 }, () => ({ public_key: "k" })) },
      [{ location: "body.keys", message: "expected array length <= 100" }],
    ],
    ["a key that is not an object", { keys: ["k"] }, [{ location: "body.keys[0]", message: "expected object", value: "k" }]],
    [
      "a key without public_key",
      { keys: [{ name: "n" }] },
      [{ location: "body.keys[0]", message: "expected required property public_key to be present" }],
    ],
    ["a public_key that is not a string", { keys: [{ public_key: 7 }] }, [{ location: "body.keys[0].public_key", message: "expected string", value: 7 }]],
    ["an empty public_key", { keys: [{ public_key: "" }] }, [{ location: "body.keys[0].public_key", message: "expected length >= 1", value: "" }]],
    [
      "a key name over 255 characters",
      { keys: [{ public_key: key, name: long(256) }] },
      [{ location: "body.keys[0].name", message: "expected length <= 255", value: long(256) }],
    ],
    [
      "a key external_id that is not a string",
      { keys: [{ public_key: key, external_id: 5 }] },
      [{ location: "body.keys[0].external_id", message: "expected string", value: 5 }],
    ],
    ["an unknown key property", { keys: [{ public_key: key, comment: "c" }] }, [{ location: "body.keys[0].comment", message: "unexpected property", value: "c" }]],
    ["an unknown property", withKey({ color: "red" }), [{ location: "body.color", message: "unexpected property", value: "red" }]],
    ["external_id over 255 characters", withKey({ external_id: long(256) }), [{ location: "body.external_id", message: "expected length <= 255", value: long(256) }]],
    ["match_all_keys as a string", withKey({ match_all_keys: "yes" }), [{ location: "body.match_all_keys", message: "expected boolean", value: "yes" }]],
    ["max_attempts 0", withKey({ max_attempts: 0 }), [{ location: "body.max_attempts", message: "expected number >= 1", value: 0 }]],
    ["a fractional max_attempts", withKey({ max_attempts: 1.5 }), [{ location: "body.max_attempts", message: "expected integer", value: 1.5 }]],
    ["multi_connection as null", withKey({ multi_connection: null }), [{ location: "body.multi_connection", message: "expected boolean", value: null }]],
    ["multi_key as a number", withKey({ multi_key: 1 }), [{ location: "body.multi_key", message: "expected boolean", value: 1 }]],
    ["must_confirm as a string", withKey({ must_confirm: "true" }), [{ location: "body.must_confirm", message: "expected boolean", value: "true" }]],
    ["ssh_banner over 4096 characters", withKey({ ssh_banner: long(4097) }), [{ location: "body.ssh_banner", message: "expected length <= 4096" }]],
    ["ssh_message as an object", withKey({ ssh_message: { text: "hi" } }), [{ location: "body.ssh_message", message: "expected string", value: { text: "hi" } }]],
    [
      "expired_at that is not a date-time",
      withKey({ expired_at: "tomorrow" }),
      [{ location: "body.expired_at", message: "expected string to be RFC 3339 date-time", value: "tomorrow" }],
    ],
    [
      "expired_at without a time zone",
      withKey({ expired_at: "2999-01-01T00:00:00" }),
      [{ location: "body.expired_at", message: "expected string to be RFC 3339 date-time", value: "2999-01-01T00:00:00" }],
    ],
    ["timeout 0", withKey({ timeout: 0 }), [{ location: "body.timeout", message: "expected number >= 1", value: 0 }]],
    ["timeout over ten years", withKey({ timeout: 315360001 }), [{ location: "body.timeout", message: "expected number <= 315360000", value: 315360001 }]],
    ["timeout as a string", withKey({ timeout: "60" }), [{ location: "body.timeout", message: "expected integer", value: "60" }]],
    ["webhooks that are not an array", withKey({ webhooks: {} }), [{ location: "body.webhooks", message: "expected array", value: {} }]],
    [
      "more than 20 webhooks",
      withKey({ webhooks: Array.from({ length: 21 }, () => ({ url: "http://127.0.0.1/" })) }),
      [{ location: "body.webhooks", message: "expected array length <= 20" }],
    ],
    ["a webhook without url", withKey({ webhooks: [{}] }), [{ location: "body.webhooks[0]", message: "expected required property url to be present" }]],
    [
      "a webhook method outside post, put, patch",
      withKey({ webhooks: [{ url: "http://127.0.0.1/", method: "get" }] }),
      [{ location: "body.webhooks[0].method", message: 'expected value to be one of "post, put, patch"', value: "get" }],
    ],
    [
      "a webhook header value that is not a list",
      withKey({ webhooks: [{ url: "http://127.0.0.1/", headers: { "x-a": "b" } }] }),
      [{ location: "body.webhooks[0].headers.x-a", message: "expected array", value: "b" }],
    ],
    [
      "an unknown webhook event",
      withKey({ webhooks: [{ url: "http://127.0.0.1/", events: ["opened"] }] }),
      [
        {
          location: "body.webhooks[0].events[0]",
          message: 'expected value to be one of "new_connection, verified, failed_attempt, key_collected, status_changed"',
          value: "opened",
        },
      ],
    ],
    [
      "webhook retries, initial_backoff and backoff_multiplier out of range",
      withKey({ webhooks: [{ url: "http://127.0.0.1/", retries: 21, initial_backoff: 0, backoff_multiplier: 11 }] }),
      [
        { location: "body.webhooks[0].retries", message: "expected number <= 20", value: 21 },
        { location: "body.webhooks[0].initial_backoff", message: "expected number >= 1", value: 0 },
        { location: "body.webhooks[0].backoff_multiplier", message: "expected number <= 10", value: 11 },
      ],
    ],
  ];

  it.each(schemaCases())("answers 422 for %s, with its exact location", async (_description, body, errors) => {
    const response = await gateway.request("POST", VERIFY, { body });
    expectProblem(response, 422, { detail: "validation failed" });
    expect(response.json.errors).toMatchObject(errors);
    expect(response.json.errors).toHaveLength(errors.length);
  });

  const ruleCases = (): Case[] => {
    const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "pem", type: "spki" }).toString();
    return [
      ["a malformed public key", { keys: [{ public_key: "ssh-ed25519 AAAA" }] }, [{ location: "body.keys[0].public_key", message: expect.any(String) as unknown as string, value: "ssh-ed25519 AAAA" }]],
      ["an RSA key under 2048 bits", { keys: [{ public_key: rsa1024 }] }, [{ location: "body.keys[0].public_key", message: expect.stringMatching(/2048/) as unknown as string }]],
      [
        "the same key twice",
        { keys: [{ public_key: key }, { public_key: `${key.split(" ").slice(0, 2).join(" ")} another-comment` }] },
        [{ location: "body.keys[1].public_key", message: "duplicate key: the same key as keys[0]" }],
      ],
      ["an expiry in the past", withKey({ expired_at: "2001-01-01T00:00:00Z" }), [{ location: "body.expired_at", message: "must be in the future" }]],
      ["max_attempts over 1000000", withKey({ max_attempts: 1_000_001 }), [{ location: "body.max_attempts", message: "expected integer between 1 and 1000000" }]],
      ["a NUL character in external_id", withKey({ external_id: "a\u0000b" }), [{ location: "body.external_id", message: "must not contain NUL characters" }]],
      [
        "a webhook URL that is not http(s)",
        withKey({ webhooks: [{ url: "ftp://example.com/" }] }),
        [{ location: "body.webhooks[0].url", message: "expected an absolute http or https URL", value: "ftp://example.com/" }],
      ],
      [
        "a webhook header the signature owns",
        withKey({ webhooks: [{ url: "http://127.0.0.1/", headers: { "webhook-id": ["x"] } }] }),
        [{ location: "body.webhooks[0].headers", message: 'header "webhook-id" cannot be overridden', value: "webhook-id" }],
      ],
    ];
  };

  it.each(ruleCases())("answers 422 for %s (a service rule), with its exact location", async (_description, body, errors) => {
    const response = await gateway.request("POST", VERIFY, { body });
    expectProblem(response, 422, { detail: "validation failed" });
    expect(response.json.errors).toMatchObject(errors);
    expect(response.json.errors).toHaveLength(errors.length);
  });

  it("reports every schema violation of a body in one 422", async () => {
    const response = await gateway.request("POST", VERIFY, {
      body: { keys: [{ public_key: 1, extra: true }], max_attempts: 0, timeout: "soon", color: "red" },
    });
    expectProblem(response, 422, {
      errors: [
        { location: "body.color", message: "unexpected property", value: "red" },
        { location: "body.keys[0].extra", message: "unexpected property", value: true },
        { location: "body.keys[0].public_key", message: "expected string", value: 1 },
        { location: "body.max_attempts", message: "expected number >= 1", value: 0 },
        { location: "body.timeout", message: "expected integer", value: "soon" },
      ],
    });
  });

  it("reports every rule violation of a body in one 422", async () => {
    const response = await gateway.request("POST", VERIFY, {
      body: { keys: [{ public_key: "nonsense" }], external_id: "a\u0000", expired_at: "2001-01-01T00:00:00Z" },
    });
    expectProblem(response, 422);
    expect(response.json.errors.map((error: { location: string }) => error.location)).toEqual([
      "body.external_id",
      "body.expired_at",
      "body.keys[0].public_key",
    ]);
  });

  it("reports schema and rule violations of different fields together in one 422", async () => {
    const duplicateKeys = [{ public_key: key }, { public_key: key }];
    const created = await gateway.request("POST", VERIFY, { body: { keys: duplicateKeys, max_attempts: 0, color: "red" } });
    expectProblem(created, 422, {
      errors: [
        { location: "body.color", message: "unexpected property", value: "red" },
        { location: "body.max_attempts", message: "expected number >= 1", value: 0 },
        { location: "body.keys[1].public_key", message: "duplicate key: the same key as keys[0]", value: key },
      ],
    });
    const patched = await gateway.request("PATCH", `${VERIFY}${pendingId}/`, {
      body: { keys: duplicateKeys, ssh_banner: 5, expired_at: "2001-01-01T00:00:00Z" },
    });
    expect(patched.json.errors.map((error: { location: string }) => error.location)).toEqual([
      "body.ssh_banner",
      "body.expired_at",
      "body.keys[1].public_key",
    ]);
  });

  it("keeps checking the other items of an array when one item has a shape error", async () => {
    const response = await gateway.request("POST", VERIFY, {
      body: {
        keys: [{ public_key: key, bogus: 1 }, { public_key: "garbage" }],
        webhooks: [
          { url: "https://example.com/a", retries: 99 },
          { url: "https://example.com/b", events: ["key_collected"] },
        ],
      },
    });
    expectProblem(response, 422);
    expect(response.json.errors.map((error: { location: string }) => error.location).sort()).toEqual([
      "body.keys[0].bogus",
      "body.keys[1].public_key",
      "body.webhooks[0].retries",
      "body.webhooks[1].events[0]",
    ]);
  });

  it("accepts $schema inside a key object, as everywhere in a body", async () => {
    const response = await gateway.request("POST", VERIFY, {
      body: { $schema: "https://example.com/schemas/VerifySessionCreate.json", keys: [{ $schema: "x", public_key: key }] },
    });
    expect(response.status).toBe(201);
  });

  it("answers the hosted API's 400 only for a body valid in every field that combines timeout and expired_at", async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const both = await gateway.request("POST", VERIFY, { body: withKey({ timeout: 60, expired_at: future }) });
    expectProblem(both, 400, { detail: "Cannot use both timeout and expired_at" });
    expect(both.json.errors).toBeUndefined();
    const alsoInvalid = await gateway.request("POST", VERIFY, { body: withKey({ timeout: 60, expired_at: future, max_attempts: 0 }) });
    expectProblem(alsoInvalid, 422, { errors: [{ location: "body.max_attempts", message: "expected number >= 1", value: 0 }] });
    const pastExpiry = await gateway.request("POST", VERIFY, { body: withKey({ timeout: 60, expired_at: "2001-01-01T00:00:00Z" }) });
    expectProblem(pastExpiry, 422);
    const patch = await gateway.request("PATCH", `${VERIFY}${pendingId}/`, { body: { timeout: 60, expired_at: future } });
    expectProblem(patch, 400, { detail: "Cannot use both timeout and expired_at" });
  });

  it("validates PATCH bodies against the update schema: keys cannot be null, webhooks are not part of it", async () => {
    const response = await gateway.request("PATCH", `${VERIFY}${pendingId}/`, {
      body: { keys: null, webhooks: [], max_attempts: "3", $schema: "https://example.test/x.json" },
    });
    expectProblem(response, 422, {
      errors: [
        { location: "body.webhooks", message: "unexpected property", value: [] },
        { location: "body.keys", message: "expected array", value: null },
        { location: "body.max_attempts", message: "expected integer", value: "3" },
      ],
    });
    const badKey = await gateway.request("PATCH", `${VERIFY}${pendingId}/`, { body: { keys: [{ public_key: "nonsense" }] } });
    expectProblem(badKey, 422);
    expect(badKey.json.errors[0].location).toBe("body.keys[0].public_key");
    const empty = await gateway.request("PATCH", `${VERIFY}${pendingId}/`);
    expectProblem(empty, 422, { errors: [{ location: "body", message: "request body is required" }] });
    const collectOnly = await gateway.request("POST", COLLECT, { body: { timeout: 0, keys: [] } });
    expectProblem(collectOnly, 422, {
      errors: [
        { location: "body.keys", message: "unexpected property", value: [] },
        { location: "body.timeout", message: "expected number >= 1", value: 0 },
      ],
    });
  });

  it("validates query parameters: query.offset, query.limit, query.status, query.external_id", async () => {
    const cases: Array<[string, Array<{ location: string; message: string; value?: unknown }>]> = [
      ["limit=0", [{ location: "query.limit", message: "expected number >= 1", value: 0 }]],
      ["limit=abc", [{ location: "query.limit", message: "invalid integer", value: "abc" }]],
      ["limit=1.5", [{ location: "query.limit", message: "invalid integer", value: "1.5" }]],
      ["limit=99999999999999999999", [{ location: "query.limit", message: "invalid integer", value: "99999999999999999999" }]],
      ["offset=-1", [{ location: "query.offset", message: "expected number >= 0", value: -1 }]],
      ["status=done", [{ location: "query.status", message: 'expected value to be one of "pending, verified, failed, expired"', value: "done" }]],
      [`external_id=${long(256)}`, [{ location: "query.external_id", message: "expected length <= 255", value: long(256) }]],
      [
        "offset=x&limit=-5&status=nope",
        [
          { location: "query.offset", message: "invalid integer", value: "x" },
          { location: "query.limit", message: "expected number >= 1", value: -5 },
          { location: "query.status", message: 'expected value to be one of "pending, verified, failed, expired"', value: "nope" },
        ],
      ],
    ];
    for (const [query, errors] of cases) {
      expectProblem(await gateway.request("GET", `${VERIFY}?${query}`), 422, { detail: "validation failed", errors });
    }
  });

  it("validates the session id: path.session, together with the body's errors", async () => {
    expectProblem(await gateway.request("GET", `${VERIFY}not-a-uuid/`), 422, {
      errors: [{ location: "path.session", message: "expected string to be RFC 4122 uuid", value: "not-a-uuid" }],
    });
    expectProblem(await gateway.request("PATCH", `${VERIFY}42/`, { body: { max_attempts: 0 } }), 422, {
      errors: [
        { location: "path.session", message: "expected string to be RFC 4122 uuid", value: "42" },
        { location: "body.max_attempts", message: "expected number >= 1", value: 0 },
      ],
    });
    expectProblem(await gateway.request("POST", `${COLLECT}urn:uuid:0195f7a4-0000-7000-8000-000000000000/complete/`), 422);
  });
});
