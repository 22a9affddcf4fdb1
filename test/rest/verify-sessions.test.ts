import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Connection, ConnectionKey, SessionKey, Webhook, WebhookInvocation } from "../../src/db/entities/index.js";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem, RFC3339_UTC, rsaKeyPem, ServedSchemas } from "./support/rest-fixtures.js";
import { recordConnection } from "../support/ssh-activity.js";

const SESSIONS = "/api/v1/ssh/verify/sessions/";

describe.each(databaseKinds())("verify sessions over REST on %s", (kind) => {
  let gateway: TestGateway;
  const schemas = new ServedSchemas();

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  const create = async (body: Record<string, unknown>) => {
    const response = await gateway.request("POST", SESSIONS, { body });
    expect(response.status, response.text).toBe(201);
    return response.json;
  };

  it("creates a session with the defaults: 201, every field present, null where unset", async () => {
    const line = ed25519KeyLine();
    const response = await gateway.request("POST", SESSIONS, { body: { keys: [{ public_key: line }] } });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("link")).toBe('</schemas/VerifySessionDetail.json>; rel="describedBy"');
    const parsed = parsePublicKey(line);
    expect(response.json).toEqual({
      $schema: `${gateway.httpUrl}/schemas/VerifySessionDetail.json`,
      connection_identifier: expect.stringMatching(/^[a-z][a-z2-7]{25}$/),
      created_at: expect.stringMatching(RFC3339_UTC),
      expired_at: null,
      external_id: null,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      match_all_keys: false,
      max_attempts: 1,
      multi_connection: false,
      multi_key: false,
      must_confirm: false,
      ssh_banner: null,
      ssh_message: null,
      status: "pending",
      updated_at: response.json.created_at,
      keys: [
        {
          id: expect.any(String),
          name: null,
          external_id: null,
          public_key_algorithm: "ssh-ed25519",
          public_key_md5: parsed.md5,
          public_key_pem: parsed.pem,
          public_key_sha256: parsed.sha256,
          public_key_ssh: parsed.ssh,
          verified_at: null,
        },
      ],
      connections: [],
      webhooks: [],
    });
    await schemas.expectValid(response.json);
  });

  it("creates a session with every setting, keys in any accepted format", async () => {
    const expiredAt = new Date(Date.now() + 3_600_000).toISOString();
    const body = await create({
      $schema: "https://example.test/schemas/VerifySessionCreate.json",
      keys: [
        { public_key: ed25519KeyLine(), name: "laptop", external_id: "key-1" },
        { public_key: rsaKeyPem(), name: "ci", external_id: null },
      ],
      external_id: "user-42",
      match_all_keys: true,
      max_attempts: 3,
      multi_connection: true,
      multi_key: true,
      must_confirm: true,
      ssh_banner: "Welcome",
      ssh_message: "Verifying your key",
      expired_at: expiredAt,
    });
    expect(body).toMatchObject({
      external_id: "user-42",
      match_all_keys: true,
      max_attempts: 3,
      multi_connection: true,
      multi_key: true,
      must_confirm: true,
      ssh_banner: "Welcome",
      ssh_message: "Verifying your key",
      expired_at: expiredAt,
    });
    expect(body.keys.map((key: { name: string; public_key_algorithm: string }) => [key.name, key.public_key_algorithm])).toEqual([
      ["laptop", "ssh-ed25519"],
      ["ci", "ssh-rsa"],
    ]);
    await schemas.expectValid(body);
  });

  it("expires after `timeout` seconds: expired_at is set, and the status reads expired once it has passed", async () => {
    const before = Date.now();
    const body = await create({ keys: [{ public_key: ed25519KeyLine() }], timeout: 1 });
    const expiresAt = Date.parse(body.expired_at);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 1000);
    expect(body.status).toBe("pending");
    let status = body.status;
    while (status === "pending") {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await gateway.request("GET", `${SESSIONS}${body.id}/`)).json.status;
    }
    expect(status).toBe("expired");
    const patch = await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { external_id: "late" } });
    expectProblem(patch, 409);
  });

  it("shows the signing secret of webhooks created with the session in the 201 answer only", async () => {
    const body = await create({
      keys: [{ public_key: ed25519KeyLine() }],
      webhooks: [{ url: "http://127.0.0.1:9/hook", events: ["verified"], headers: { "x-team": ["blue"] } }],
    });
    expect(body.webhooks).toEqual([
      {
        id: expect.any(String),
        url: "http://127.0.0.1:9/hook",
        method: "post",
        headers: { "x-team": ["blue"] },
        events: ["verified"],
        retries: 0,
        initial_backoff: 10,
        backoff_multiplier: 2,
        secret: expect.stringMatching(/^whsec_/),
        created_at: body.created_at,
        updated_at: body.created_at,
      },
    ]);
    await schemas.expectValid(body);
    const read = await gateway.request("GET", `${SESSIONS}${body.id}/`);
    expect(read.json.webhooks[0].secret).toBeNull();
  });

  it("reads a session with and without the trailing slash, and the list too", async () => {
    const body = await create({ keys: [{ public_key: ed25519KeyLine() }] });
    const withSlash = await gateway.request("GET", `${SESSIONS}${body.id}/`);
    const withoutSlash = await gateway.request("GET", `${SESSIONS}${body.id}`);
    expect(withSlash.status).toBe(200);
    expect(withoutSlash.json).toEqual(withSlash.json);
    expect(withSlash.json).toEqual(body);
    await schemas.expectValid(withSlash.json);
    expect((await gateway.request("GET", SESSIONS.slice(0, -1))).status).toBe(200);
    const upperCaseId = await gateway.request("GET", `${SESSIONS}${body.id.toUpperCase()}`);
    expect(upperCaseId.json.id).toBe(body.id);
  });

  it("PATCH merges: absent fields stay, null resets to the default, keys replace the whole list", async () => {
    const body = await create({
      keys: [{ public_key: ed25519KeyLine(), name: "old" }],
      external_id: "before",
      max_attempts: 5,
      ssh_banner: "banner",
      timeout: 600,
    });
    const replacement = ed25519KeyLine();
    const response = await gateway.request("PATCH", `${SESSIONS}${body.id}`, {
      body: { external_id: null, max_attempts: null, keys: [{ public_key: replacement, name: "new" }], timeout: null },
      headers: { "content-type": "application/merge-patch+json" },
    });
    expect(response.status, response.text).toBe(200);
    expect(response.json).toMatchObject({
      external_id: null,
      max_attempts: 1,
      ssh_banner: "banner",
      expired_at: null,
      id: body.id,
      connection_identifier: body.connection_identifier,
      created_at: body.created_at,
    });
    expect(Date.parse(response.json.updated_at)).toBeGreaterThanOrEqual(Date.parse(body.updated_at));
    expect(response.json.keys.map((key: { name: string; public_key_ssh: string }) => [key.name, key.public_key_ssh])).toEqual([
      ["new", parsePublicKey(replacement).ssh],
    ]);
    await schemas.expectValid(response.json);
    const empty = await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: {} });
    expect(empty.json).toMatchObject({ external_id: null, ssh_banner: "banner", keys: response.json.keys });
  });

  it("PATCH `timeout` counts from the time of the patch", async () => {
    const body = await create({ keys: [{ public_key: ed25519KeyLine() }] });
    const before = Date.now();
    const response = await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { timeout: 3600 } });
    expect(Date.parse(response.json.expired_at)).toBeGreaterThanOrEqual(before + 3_600_000);
  });

  it("PATCH answers 409 once someone has connected, and leaves the session as it was", async () => {
    const body = await create({ keys: [{ public_key: ed25519KeyLine() }] });
    await recordConnection(gateway.services, body.id);
    const response = await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { external_id: "changed" } });
    expectProblem(response, 409, { detail: "a session can be changed only while pending and before any connection" });
    expect((await gateway.request("GET", `${SESSIONS}${body.id}/`)).json.external_id).toBeNull();
  });

  it("renders connections with the keys proven on them, and marks configured keys verified", async () => {
    const line = ed25519KeyLine();
    const body = await create({ keys: [{ public_key: line, name: "laptop", external_id: "k1" }] });
    const connectionId = await recordConnection(gateway.services, body.id, [{ keyLine: line, sessionKeyId: body.keys[0].id }]);
    const read = await gateway.request("GET", `${SESSIONS}${body.id}/`);
    expect(read.json.status).toBe("verified");
    expect(read.json.keys[0].verified_at).toMatch(RFC3339_UTC);
    expect(read.json.connections).toEqual([
      {
        id: connectionId,
        ip_address: "203.0.113.7",
        client_version: "SSH-2.0-OpenSSH_9.6",
        created_at: expect.stringMatching(RFC3339_UTC),
        keys: [
          {
            id: expect.any(String),
            name: "laptop",
            external_id: "k1",
            public_key_algorithm: "ssh-ed25519",
            public_key_md5: body.keys[0].public_key_md5,
            public_key_pem: body.keys[0].public_key_pem,
            public_key_sha256: body.keys[0].public_key_sha256,
            public_key_ssh: body.keys[0].public_key_ssh,
            verified_at: read.json.keys[0].verified_at,
          },
        ],
      },
    ]);
    await schemas.expectValid(read.json);
    expectProblem(await gateway.request("PATCH", `${SESSIONS}${body.id}/`, { body: { ssh_message: "x" } }), 409);
  });

  it("DELETE answers 204 and takes its connections, keys, webhooks and pending deliveries with it", async () => {
    const line = ed25519KeyLine();
    const body = await create({ keys: [{ public_key: line }], webhooks: [{ url: "http://127.0.0.1:9/hook" }] });
    await recordConnection(gateway.services, body.id, [{ keyLine: line, sessionKeyId: body.keys[0].id }]);
    const rowsOf = () =>
      gateway.services.database.read(async (manager) =>
        Promise.all(
          [SessionKey, Connection, ConnectionKey, Webhook, WebhookInvocation].map((entity) =>
            manager.countBy(entity, { sessionId: body.id }),
          ),
        ),
      );
    expect((await rowsOf()).every((count) => count > 0)).toBe(true);
    const response = await gateway.request("DELETE", `${SESSIONS}${body.id}/`);
    expect(response.status).toBe(204);
    expect(response.text).toBe("");
    expect(await rowsOf()).toEqual([0, 0, 0, 0, 0]);
    expectProblem(await gateway.request("GET", `${SESSIONS}${body.id}/`), 404, { detail: "verify session not found" });
    expectProblem(await gateway.request("DELETE", `${SESSIONS}${body.id}`), 404);
  });

  it("complete answers 409 unless the session is multi_connection and pending", async () => {
    const single = await create({ keys: [{ public_key: ed25519KeyLine() }] });
    expectProblem(await gateway.request("POST", `${SESSIONS}${single.id}/complete/`), 409, {
      detail: "only a pending multi_connection session can be completed",
    });
    const multi = await create({ keys: [{ public_key: ed25519KeyLine() }], multi_connection: true });
    const completed = await gateway.request("POST", `${SESSIONS}${multi.id}/complete`);
    expect(completed.status).toBe(200);
    expect(completed.json.status).toBe("failed");
    await schemas.expectValid(completed.json);
    expectProblem(await gateway.request("POST", `${SESSIONS}${multi.id}/complete/`), 409);
    expectProblem(await gateway.request("PATCH", `${SESSIONS}${multi.id}/`, { body: { ssh_message: "x" } }), 409);
  });

  it("complete turns a multi_connection session verified when a connection satisfied it", async () => {
    const line = ed25519KeyLine();
    const body = await create({ keys: [{ public_key: line }], multi_connection: true });
    await recordConnection(gateway.services, body.id, [{ keyLine: line, sessionKeyId: body.keys[0].id }]);
    expect((await gateway.request("GET", `${SESSIONS}${body.id}/`)).json.status).toBe("pending");
    const completed = await gateway.request("POST", `${SESSIONS}${body.id}/complete/`);
    expect(completed.json.status).toBe("verified");
  });

  it("answers 404 for an unknown id and for a collect session's id", async () => {
    const collect = await gateway.request("POST", "/api/v1/ssh/collect/sessions/", { body: {} });
    for (const id of ["0195f7a4-0000-7000-8000-000000000000", collect.json.id]) {
      expectProblem(await gateway.request("GET", `${SESSIONS}${id}/`), 404, { detail: "verify session not found" });
      expectProblem(await gateway.request("PATCH", `${SESSIONS}${id}/`, { body: {} }), 404);
      expectProblem(await gateway.request("DELETE", `${SESSIONS}${id}/`), 404);
      expectProblem(await gateway.request("POST", `${SESSIONS}${id}/complete/`), 404);
    }
  });

  it("describes the calling key at /api/v1/auth/info/", async () => {
    const response = await gateway.request("GET", "/api/v1/auth/info/");
    expect(response.status).toBe(200);
    const [key] = await gateway.services.apiKeys.listApiKeys();
    expect(response.json).toEqual({
      $schema: `${gateway.httpUrl}/schemas/AuthInfo.json`,
      id: key.id,
      name: "bootstrap",
      project_id: key.projectId,
      created_at: key.createdAt.toISOString(),
      expired_at: null,
    });
    await schemas.expectValid(response.json);
    expect((await gateway.request("GET", "/api/v1/auth/info")).json).toEqual(response.json);
  });
});
