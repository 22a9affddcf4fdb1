import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem, RFC3339_UTC, ServedSchemas } from "./support/rest-fixtures.js";
import { recordConnection } from "../support/ssh-activity.js";

const SESSIONS = "/api/v1/ssh/collect/sessions/";

describe.each(databaseKinds())("collect sessions over REST on %s", (kind) => {
  let gateway: TestGateway;
  const schemas = new ServedSchemas();

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const create = async (body?: Record<string, unknown>) => {
    const response = await gateway.request("POST", SESSIONS, { body });
    expect(response.status, response.text).toBe(201);
    return response.json;
  };

  it("creates a session from an empty body: no keys, no match_all_keys or max_attempts", async () => {
    const response = await gateway.request("POST", SESSIONS);
    expect(response.status).toBe(201);
    expect(response.headers.get("link")).toBe('</schemas/CollectSessionDetail.json>; rel="describedBy"');
    expect(response.json).toEqual({
      $schema: `${gateway.httpUrl}/schemas/CollectSessionDetail.json`,
      connection_identifier: expect.stringMatching(/^[a-z][a-z2-7]{25}$/),
      created_at: expect.stringMatching(RFC3339_UTC),
      expired_at: null,
      external_id: null,
      id: expect.any(String),
      multi_connection: false,
      multi_key: false,
      must_confirm: false,
      ssh_banner: null,
      ssh_message: null,
      status: "pending",
      updated_at: response.json.created_at,
      keys: [],
      connections: [],
      webhooks: [],
    });
    await schemas.expectValid(response.json);
  });

  it("refuses the verify-only fields with one 422 naming each", async () => {
    const response = await gateway.request("POST", SESSIONS, {
      body: { keys: [{ public_key: ed25519KeyLine() }], match_all_keys: true, max_attempts: 2 },
    });
    expectProblem(response, 422, {
      detail: "validation failed",
      errors: [
        { location: "body.keys", message: "unexpected property", value: response.json.errors[0].value },
        { location: "body.match_all_keys", message: "unexpected property", value: true },
        { location: "body.max_attempts", message: "unexpected property", value: 2 },
      ],
    });
  });

  it("renders collected keys as {id, created_at, public_key_*}, on the session and on each connection", async () => {
    const body = await create({ external_id: "laptop-inventory", multi_key: true });
    const line = ed25519KeyLine();
    const parsed = parsePublicKey(line);
    const connectionId = await recordConnection(gateway.services, body.id, [{ keyLine: line, sessionKeyId: null }]);
    const read = await gateway.request("GET", `${SESSIONS}${body.id}`);
    const collected = {
      id: expect.any(String),
      created_at: expect.stringMatching(RFC3339_UTC),
      public_key_algorithm: "ssh-ed25519",
      public_key_md5: parsed.md5,
      public_key_pem: parsed.pem,
      public_key_sha256: parsed.sha256,
      public_key_ssh: parsed.ssh,
    };
    expect(read.json).toMatchObject({ status: "completed", keys: [collected] });
    expect(read.json.connections).toEqual([
      {
        id: connectionId,
        ip_address: "203.0.113.7",
        client_version: "SSH-2.0-OpenSSH_9.6",
        created_at: expect.stringMatching(RFC3339_UTC),
        keys: [collected],
      },
    ]);
    await schemas.expectValid(read.json);
  });

  it("PATCH merges and answers 409 once someone has connected", async () => {
    const body = await create({ ssh_message: "hello", external_id: "a" });
    const patched = await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { external_id: "b", ssh_message: null } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ external_id: "b", ssh_message: null });
    await schemas.expectValid(patched.json);
    await recordConnection(gateway.services, body.id);
    expectProblem(await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { external_id: "c" } }), 409);
  });

  it("complete turns a pending multi_connection session completed; otherwise 409", async () => {
    const single = await create();
    expectProblem(await gateway.request("POST", `${SESSIONS}${single.id}/complete/`), 409);
    const multi = await create({ multi_connection: true });
    const completed = await gateway.request("POST", `${SESSIONS}${multi.id}/complete/`);
    expect(completed.status).toBe(200);
    expect(completed.json.status).toBe("completed");
    await schemas.expectValid(completed.json);
    expectProblem(await gateway.request("POST", `${SESSIONS}${multi.id}/complete`), 409);
  });

  it("DELETE answers 204, then the session is gone", async () => {
    const body = await create({ webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["key_collected"] }] });
    expect(body.webhooks[0].secret).toMatch(/^whsec_/);
    expect((await gateway.request("DELETE", `${SESSIONS}${body.id}`)).status).toBe(204);
    expectProblem(await gateway.request("GET", `${SESSIONS}${body.id}/`), 404, { detail: "collect session not found" });
  });

  it("lists collect sessions only, filtered by the collect statuses", async () => {
    const body = await create({ external_id: "only-collect" });
    const list = await gateway.request("GET", `${SESSIONS}?external_id=only-collect`);
    expect(list.json).toMatchObject({ total: 1, items: [{ id: body.id }] });
    expect(list.json.items[0]).not.toHaveProperty("match_all_keys");
    await schemas.expectValid(list.json);
    const wrongStatus = await gateway.request("GET", `${SESSIONS}?status=verified`);
    expectProblem(wrongStatus, 422, {
      errors: [{ location: "query.status", message: 'expected value to be one of "pending, completed, expired"', value: "verified" }],
    });
    expect((await gateway.request("GET", `/api/v1/ssh/verify/sessions/${body.id}/`)).status).toBe(404);
  });

  it("refuses a webhook event that only verify sessions have", async () => {
    const response = await gateway.request("POST", SESSIONS, { body: { webhooks: [{ url: "http://127.0.0.1:9/", events: ["verified"] }] } });
    expectProblem(response, 422, {
      errors: [
        {
          location: "body.webhooks[0].events[0]",
          message: 'expected value to be one of "new_connection, key_collected, status_changed"',
          value: "verified",
        },
      ],
    });
  });
});
