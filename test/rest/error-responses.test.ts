import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem } from "./support/rest-fixtures.js";

const VERIFY = "/api/v1/ssh/verify/sessions/";
const UNKNOWN_ID = "0195f7a4-0000-7000-8000-000000000000";

describe.each(databaseKinds())("REST error answers on %s", (kind) => {
  let gateway: TestGateway;
  let sessionId: string;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    sessionId = (await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: ed25519KeyLine() }] } })).json.id;
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers 401 for a missing, wrong, truncated, revoked or expired key", async () => {
    const { project, apiKey } = await gateway.services.apiKeys.createProject("keys");
    const revoked = await gateway.services.apiKeys.createApiKey(project.id, { name: "revoked" });
    await gateway.services.apiKeys.revokeApiKey(revoked.id);
    const expired = await gateway.services.apiKeys.createApiKey(project.id, { expiredAt: new Date(Date.now() - 1000) });
    expectProblem(await gateway.request("GET", VERIFY, { apiKey: null }), 401, { detail: "missing x-api-key header" });
    for (const key of ["nope", apiKey.key.slice(0, -1), `${apiKey.key}x`, revoked.key, expired.key]) {
      expectProblem(await gateway.request("GET", VERIFY, { apiKey: key }), 401, { detail: "invalid, revoked or expired API key" });
    }
    expect((await gateway.request("GET", VERIFY, { apiKey: apiKey.key })).status).toBe(200);
  });

  it("checks the key before the session and the body: 401 whatever else is wrong", async () => {
    expectProblem(await gateway.request("GET", `${VERIFY}${UNKNOWN_ID}/`, { apiKey: null }), 401);
    expectProblem(await gateway.request("POST", VERIFY, { apiKey: "wrong", rawBody: "{not json" }), 401);
    expectProblem(await gateway.request("POST", VERIFY, { apiKey: null, body: { keys: [] } }), 401);
  });

  it("answers 404 problem+json for unknown routes under /api, with or without a key", async () => {
    for (const path of ["/api", "/api/", "/api/v1", "/api/v1/ssh/verify", "/api/v1/ssh/verify/sessions//", `${VERIFY}${sessionId}/nope/`, "/api/v2/x", "/api/%zz"]) {
      expectProblem(await gateway.request("GET", path), 404, { detail: "no such resource" });
    }
    expectProblem(await gateway.request("GET", "/api/v1/nothing", { apiKey: null }), 404);
  });

  it("answers 405 with Allow for a known path and another method", async () => {
    const response = await gateway.request("DELETE", VERIFY);
    expectProblem(response, 405);
    expect(response.headers.get("allow")).toBe("GET, POST");
    const complete = await gateway.request("GET", `${VERIFY}${sessionId}/complete/`);
    expectProblem(complete, 405);
    expect(complete.headers.get("allow")).toBe("POST");
  });

  it("answers 400 for a body that is not JSON, before validating anything", async () => {
    for (const rawBody of ["{", '{"keys": [', "keys=1", "{'keys': []}", "[1,]"]) {
      const response = await gateway.request("POST", VERIFY, { rawBody, headers: { "content-type": "application/json" } });
      expectProblem(response, 400, { detail: "unable to parse the request body" });
      expect(response.json.errors).toEqual([{ location: "body", message: expect.any(String) }]);
    }
    const notUtf8 = await gateway.request("POST", VERIFY, { rawBody: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });
    expectProblem(notUtf8, 400, { errors: [{ location: "body", message: "the body is not valid UTF-8" }] });
    const badPathToo = await gateway.request("PATCH", `${VERIFY}not-a-uuid/`, { rawBody: Buffer.from("{") });
    expectProblem(badPathToo, 400);
  });

  it("answers 415 for a body that is not JSON by content type", async () => {
    const response = await gateway.request("POST", VERIFY, {
      rawBody: "keys=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expectProblem(response, 415);
  });

  it("validates before looking the session up, and looks it up before checking its state", async () => {
    expectProblem(await gateway.request("PATCH", `${VERIFY}${UNKNOWN_ID}/`, { body: { max_attempts: 0 } }), 422);
    expectProblem(await gateway.request("PATCH", `${VERIFY}${UNKNOWN_ID}/`, { body: { max_attempts: 2 } }), 404);
    const single = (await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: ed25519KeyLine() }] } })).json;
    expectProblem(await gateway.request("POST", `${VERIFY}${single.id}/complete/`), 409);
  });

  it("accepts JSON under the json and merge-patch content types, and with none at all", async () => {
    for (const type of ["application/json; charset=utf-8", "application/merge-patch+json", undefined]) {
      const response = await gateway.request("PATCH", `${VERIFY}${sessionId}/`, {
        // A Buffer, because fetch would label a string body text/plain.
        rawBody: Buffer.from(JSON.stringify({ ssh_message: `via ${type}` })),
        headers: type ? { "content-type": type } : {},
      });
      expect(response.status, response.text).toBe(200);
      expect(response.json.ssh_message).toBe(`via ${type}`);
    }
  });
});

describe.each(databaseKinds())("REST answers when the database is gone on %s", (kind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("answers 500 problem+json without details, never a stack trace", async () => {
    const { apiKey } = await gateway.services.apiKeys.createProject("doomed");
    await gateway.services.database.close();
    const response = await gateway.request("GET", VERIFY, { apiKey: apiKey.key });
    expectProblem(response, 500, { detail: "an unexpected error occurred" });
    expect(response.json.errors).toBeUndefined();
  });
});
