import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DomainError, renderPath } from "../../src/domain/errors.js";
import type { SessionKind } from "../../src/domain/session-rules.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphql } from "./support/graphql-client.js";
import { type GraphqlInput, restBodyOf, serviceInputOf } from "./support/input-forms.js";
import { ed25519KeyLine } from "../support/ssh-activity.js";

type Mutation = "create" | "update" | "complete" | "delete";
/** Which session a mutation acts on: a pending multi-connection one, a completed one, a single-connection one, none. */
type Target = "pending" | "completed" | "single" | "unknown";

interface MutationCase {
  kind: SessionKind;
  mutation: Mutation;
  target?: Target;
  input?: GraphqlInput;
  code: "BAD_USER_INPUT" | "NOT_FOUND" | "CONFLICT";
  /** Where REST reports the problems, and where GraphQL reports the same ones. */
  locations: Array<[rest: string, graphql: string]>;
}

const KEY = ed25519KeyLine();
const OTHER_KEY = ed25519KeyLine();
const future = new Date(Date.now() + 3_600_000).toISOString();

const CASES: Array<[string, MutationCase]> = [
  ["create verify: no keys", { kind: "verify", mutation: "create", input: { keys: [] }, code: "BAD_USER_INPUT", locations: [["body.keys", "input.keys"]] }],
  [
    "create verify: bad and duplicate keys, bad settings",
    {
      kind: "verify",
      mutation: "create",
      input: {
        keys: [{ publicKey: "nope" }, { publicKey: KEY }, { publicKey: KEY }, { publicKey: OTHER_KEY, name: "n".repeat(256), externalId: "e".repeat(256) }],
        maxAttempts: 0,
        externalId: "x".repeat(256),
        sshBanner: "a\u0000b",
        timeout: 0,
      },
      code: "BAD_USER_INPUT",
      locations: [
        ["body.external_id", "input.externalId"],
        ["body.ssh_banner", "input.sshBanner"],
        ["body.max_attempts", "input.maxAttempts"],
        ["body.timeout", "input.timeout"],
        ["body.keys[0].public_key", "input.keys[0].publicKey"],
        ["body.keys[2].public_key", "input.keys[2].publicKey"],
        ["body.keys[3].name", "input.keys[3].name"],
        ["body.keys[3].external_id", "input.keys[3].externalId"],
      ],
    },
  ],
  [
    "create verify: expiry in the past",
    {
      kind: "verify",
      mutation: "create",
      input: { keys: [{ publicKey: KEY }], expiredAt: "2020-01-01T00:00:00.000Z" },
      code: "BAD_USER_INPUT",
      locations: [["body.expired_at", "input.expiredAt"]],
    },
  ],
  [
    "create verify: bad webhook",
    {
      kind: "verify",
      mutation: "create",
      input: {
        keys: [{ publicKey: KEY }],
        webhooks: [{ url: "ftp://hooks.example.com", events: ["KEY_COLLECTED"], retries: 50, initialBackoff: 0, headers: [{ name: "webhook-id", values: ["x"] }] }],
      },
      code: "BAD_USER_INPUT",
      locations: [
        ["body.webhooks[0].url", "input.webhooks[0].url"],
        ["body.webhooks[0].headers", "input.webhooks[0].headers"],
        ["body.webhooks[0].events[0]", "input.webhooks[0].events[0]"],
        ["body.webhooks[0].retries", "input.webhooks[0].retries"],
        ["body.webhooks[0].initial_backoff", "input.webhooks[0].initialBackoff"],
      ],
    },
  ],
  [
    "create verify: timeout with expiredAt",
    { kind: "verify", mutation: "create", input: { keys: [{ publicKey: KEY }], timeout: 60, expiredAt: future }, code: "BAD_USER_INPUT", locations: [] },
  ],
  ["update verify: keys null", { kind: "verify", mutation: "update", target: "pending", input: { keys: null }, code: "BAD_USER_INPUT", locations: [["body.keys", "input.keys"]] }],
  [
    "update verify: bad settings",
    {
      kind: "verify",
      mutation: "update",
      target: "pending",
      input: { maxAttempts: -1, timeout: 0, keys: [{ publicKey: KEY }, { publicKey: KEY }] },
      code: "BAD_USER_INPUT",
      locations: [
        ["body.max_attempts", "input.maxAttempts"],
        ["body.timeout", "input.timeout"],
        ["body.keys[1].public_key", "input.keys[1].publicKey"],
      ],
    },
  ],
  ["update verify: unknown session", { kind: "verify", mutation: "update", target: "unknown", input: { externalId: "x" }, code: "NOT_FOUND", locations: [] }],
  ["update verify: no longer pending", { kind: "verify", mutation: "update", target: "completed", input: { externalId: "x" }, code: "CONFLICT", locations: [] }],
  ["complete verify: unknown session", { kind: "verify", mutation: "complete", target: "unknown", code: "NOT_FOUND", locations: [] }],
  ["complete verify: not multi-connection", { kind: "verify", mutation: "complete", target: "single", code: "CONFLICT", locations: [] }],
  ["delete verify: unknown session", { kind: "verify", mutation: "delete", target: "unknown", code: "NOT_FOUND", locations: [] }],
  [
    "create collect: bad settings and a verify-only webhook event",
    {
      kind: "collect",
      mutation: "create",
      input: { timeout: 0, sshMessage: "m".repeat(4097), webhooks: [{ url: "https://hooks.example.com", events: ["VERIFIED"], backoffMultiplier: 11 }] },
      code: "BAD_USER_INPUT",
      locations: [
        ["body.ssh_message", "input.sshMessage"],
        ["body.timeout", "input.timeout"],
        ["body.webhooks[0].events[0]", "input.webhooks[0].events[0]"],
        ["body.webhooks[0].backoff_multiplier", "input.webhooks[0].backoffMultiplier"],
      ],
    },
  ],
  ["update collect: external id too long", { kind: "collect", mutation: "update", target: "pending", input: { externalId: "x".repeat(256) }, code: "BAD_USER_INPUT", locations: [["body.external_id", "input.externalId"]] }],
  ["update collect: no longer pending", { kind: "collect", mutation: "update", target: "completed", input: { sshBanner: "x" }, code: "CONFLICT", locations: [] }],
  ["complete collect: not multi-connection", { kind: "collect", mutation: "complete", target: "single", code: "CONFLICT", locations: [] }],
  ["delete collect: unknown session", { kind: "collect", mutation: "delete", target: "unknown", code: "NOT_FOUND", locations: [] }],
];

const CODE_OF = { INVALID_INPUT: "BAD_USER_INPUT", BAD_REQUEST: "BAD_USER_INPUT", NOT_FOUND: "NOT_FOUND", CONFLICT: "CONFLICT" } as const;
const REST_STATUS_OF = { INVALID_INPUT: 422, BAD_REQUEST: 400, NOT_FOUND: 404, CONFLICT: 409 } as const;

describe.each(databaseKinds())("mutation errors through GraphQL and REST on %s", (databaseKind) => {
  let gateway: TestGateway;
  let caller: RequestContext;

  beforeAll(async () => {
    gateway = await startTestGateway(databaseKind);
    caller = await gateway.services.apiKeys.authenticate(gateway.apiKey);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const sessionFor = async (kind: SessionKind, target: Target): Promise<string> => {
    if (target === "unknown") return randomUUID();
    const keys = kind === "verify" ? { keys: [{ publicKey: ed25519KeyLine() }] } : {};
    const session = await gateway.services.sessions.create(caller, kind, { ...keys, multiConnection: target !== "single" });
    if (target === "completed") await gateway.services.sessions.complete(caller, kind, session.id);
    return session.id;
  };

  const label = (kind: SessionKind) => (kind === "verify" ? "Verify" : "Collect");

  it.each(CASES)("%s: the same code and locations, from the same DomainError", async (_, example) => {
    const { kind, mutation, input = {} } = example;
    const id = await sessionFor(kind, example.target ?? "pending");
    const type = `${label(kind)}Session`;
    const base = `/api/v1/ssh/${kind}/sessions/`;
    const forms = {
      create: {
        graphql: `mutation($input: Create${type}Input!) { create${type}(input: $input) { id } }`,
        rest: () => gateway.request("POST", base, { body: restBodyOf(input) }),
        service: () => gateway.services.sessions.create(caller, kind, serviceInputOf(input)),
      },
      update: {
        graphql: `mutation($id: ID!, $input: Update${type}Input!) { update${type}(id: $id, input: $input) { id } }`,
        rest: () => gateway.request("PATCH", `${base}${id}/`, { body: restBodyOf(input) }),
        service: () => gateway.services.sessions.update(caller, kind, id, serviceInputOf(input)),
      },
      complete: {
        graphql: `mutation($id: ID!) { complete${type}(id: $id) { id } }`,
        rest: () => gateway.request("POST", `${base}${id}/complete/`),
        service: () => gateway.services.sessions.complete(caller, kind, id),
      },
      delete: {
        graphql: `mutation($id: ID!) { delete${type}(id: $id) }`,
        rest: () => gateway.request("DELETE", `${base}${id}/`),
        service: () => gateway.services.sessions.delete(caller, kind, id),
      },
    }[mutation];

    const domainError = await forms.service().then(
      () => null,
      (error: unknown) => error,
    );
    expect(domainError).toBeInstanceOf(DomainError);
    const { code, errors } = domainError as DomainError;
    if (code !== "INVALID_INPUT" && code !== "BAD_REQUEST" && code !== "NOT_FOUND" && code !== "CONFLICT") throw domainError;
    expect(CODE_OF[code]).toBe(example.code);
    expect(errors.map((error) => renderPath("body", error.path))).toEqual(example.locations.map(([rest]) => rest));

    // The live REST layer answers with the same status; its JSON Schema checks may report a problem before the
    // service rules run, so it may list fewer places, but never another one.
    const rest = await forms.rest();
    expect(rest.status, rest.text).toBe(REST_STATUS_OF[code]);
    const restLocations: string[] = (rest.json.errors ?? []).map((error: { location: string }) => error.location);
    expect(example.locations.map(([location]) => location)).toEqual(expect.arrayContaining(restLocations));
    expect(restLocations.length > 0).toBe(example.locations.length > 0);

    const variables = { create: { input }, update: { id, input }, complete: { id }, delete: { id } }[mutation];
    const result = await graphql(gateway, forms.graphql, variables);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors ?? [];
    expect(error.extensions?.code).toBe(example.code);
    expect(error.message).toBe((domainError as DomainError).message);
    if (example.code === "BAD_USER_INPUT") {
      expect(error.extensions?.errors).toEqual(
        errors.map((fieldError, index) => ({ location: example.locations[index][1], message: fieldError.message, value: fieldError.value })),
      );
    } else {
      expect(error.extensions?.errors).toBeUndefined();
    }
  });
});
