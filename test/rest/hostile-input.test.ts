import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem } from "./support/rest-fixtures.js";

const VERIFY = "/api/v1/ssh/verify/sessions/";
const COLLECT = "/api/v1/ssh/collect/sessions/";

/** Sends a body with chunked transfer encoding: no Content-Length, so only counting the stream can catch it. */
function postChunked(url: string, apiKey: string, chunk: Buffer, times: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": "application/json", "transfer-encoding": "chunked" },
    });
    request.on("response", (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (data: string) => (body += data));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on("error", reject);
    request.write("[");
    for (let index = 0; index < times; index++) request.write(chunk);
    request.end("]");
  });
}

describe.each(databaseKinds())("hostile REST input on %s", (kind) => {
  let gateway: TestGateway;
  const key = ed25519KeyLine();

  /** Everything the project has, in both kinds: must be exactly the same after each hostile request. */
  const snapshot = async () => {
    const [verify, collect] = await Promise.all([gateway.request("GET", VERIFY), gateway.request("GET", COLLECT)]);
    return { verify: verify.json, collect: collect.json };
  };

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: key }], external_id: "existing" } });
    await gateway.request("POST", COLLECT, { body: { external_id: "existing" } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("refuses a 10 MB body with 413 before reading it", async () => {
    const before = await snapshot();
    const huge = JSON.stringify({ keys: [{ public_key: key }], ssh_message: "x".repeat(10 * 1024 * 1024) });
    const response = await gateway.request("POST", VERIFY, { rawBody: Buffer.from(huge), headers: { "content-type": "application/json" } });
    expectProblem(response, 413, { detail: "request body is larger than 1048576 bytes" });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a chunked body once it passes 1 MiB", async () => {
    const before = await snapshot();
    const response = await postChunked(`${gateway.httpUrl}${VERIFY}`, gateway.apiKey, Buffer.from(`${"1,".repeat(32 * 1024)}`), 20);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body)).toMatchObject({ status: 413, title: "Request Entity Too Large" });
    expect(await snapshot()).toEqual(before);
  });

  it("answers deeply nested JSON with a clear 422 and does not echo it", async () => {
    const before = await snapshot();
    const depth = 200_000;
    const nested = `${"[".repeat(depth)}${"]".repeat(depth)}`;
    for (const [rawBody, location] of [
      [nested, "body"],
      [`{"keys":${nested}}`, "body.keys[0]"],
      [`{"keys":[{"public_key":${nested}}]}`, "body.keys[0].public_key"],
    ]) {
      const response = await gateway.request("POST", VERIFY, { rawBody: Buffer.from(rawBody) });
      expectProblem(response, 422);
      expect(response.json.errors[0].location).toBe(location);
      expect(response.json.errors[0]).not.toHaveProperty("value");
      expect(response.text.length).toBeLessThan(2000);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("answers wrong types everywhere with one 422 and changes nothing", async () => {
    const before = await snapshot();
    const sessionId = before.verify.items[0].id;
    const bodies = [
      "null",
      "true",
      '"keys"',
      "42",
      `{"keys":{"0":{"public_key":${JSON.stringify(key)}}}}`,
      `{"keys":[{"public_key":${JSON.stringify(key)}}],"max_attempts":"1"}`,
      `{"keys":[{"public_key":${JSON.stringify(key)}}],"expired_at":1900000000}`,
      `{"keys":[{"public_key":[${JSON.stringify(key)}]}]}`,
      `{"__proto__":{"polluted":true},"keys":[{"public_key":${JSON.stringify(key)}}]}`,
      `{"constructor":{"prototype":{"polluted":true}},"keys":[{"public_key":${JSON.stringify(key)}}]}`,
    ];
    for (const body of bodies) {
      const rawBody = Buffer.from(body);
      expectProblem(await gateway.request("POST", VERIFY, { rawBody }), 422);
      expectProblem(await gateway.request("PATCH", `${VERIFY}${sessionId}/`, { rawBody }), 422);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await snapshot()).toEqual(before);
  });

  it("refuses text that cannot be stored: unpaired surrogates, NUL, too many characters", async () => {
    const before = await snapshot();
    const cases: Array<[string, string]> = [
      ['{"keys":[{"public_key":"KEY"}],"external_id":"\\ud800"}', "body.external_id"],
      ['{"keys":[{"public_key":"KEY","name":"a\\udc00b"}]}', "body.keys[0].name"],
      ['{"keys":[{"public_key":"KEY"}],"ssh_message":"\\u0000"}', "body.ssh_message"],
      [`{"keys":[{"public_key":"KEY"}],"external_id":"${"😀".repeat(256)}"}`, "body.external_id"],
    ];
    for (const [text, location] of cases) {
      const response = await gateway.request("POST", VERIFY, { rawBody: Buffer.from(text.replace("KEY", key)) });
      expectProblem(response, 422);
      expect(response.json.errors.map((error: { location: string }) => error.location)).toEqual([location]);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("stores any valid Unicode exactly, up to 255 characters in external_id", async () => {
    const texts = ["😀".repeat(255), "مرحبا שלום", "e\u0301 ﬁ ß İ", "\u202Eevil\u202C", "タグ"];
    for (const externalId of texts) {
      const created = await gateway.request("POST", COLLECT, { body: { external_id: externalId, ssh_message: externalId } });
      expect(created.status, created.text).toBe(201);
      const listed = await gateway.request("GET", `${COLLECT}?external_id=${encodeURIComponent(externalId)}`);
      expect(listed.json.items.map((item: { external_id: string }) => item.external_id)).toEqual([externalId]);
      expect((await gateway.request("DELETE", `${COLLECT}${created.json.id}/`)).status).toBe(204);
    }
  });

  it("treats SQL metacharacters in external_id as plain text", async () => {
    const before = await snapshot();
    for (const externalId of ["' OR '1'='1", "existing' --", "'; DROP TABLE sessions; --", "%", "_", "exist%", "\\", '"', "existing\\"]) {
      const response = await gateway.request("GET", `${VERIFY}?external_id=${encodeURIComponent(externalId)}`);
      expect(response.status).toBe(200);
      expect(response.json).toMatchObject({ total: 0, items: [] });
    }
    expect(await snapshot()).toEqual(before);
    const sneaky = "x'); DELETE FROM sessions; --";
    const created = await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: key }], external_id: sneaky } });
    expect(created.json.external_id).toBe(sneaky);
    const listed = await gateway.request("GET", `${VERIFY}?external_id=${encodeURIComponent(sneaky)}`);
    expect(listed.json.total).toBe(1);
    await gateway.request("DELETE", `${VERIFY}${created.json.id}/`);
    expect(await snapshot()).toEqual(before);
  });

  it("answers truncated API keys with 401 and truncated public keys with 422", async () => {
    const before = await snapshot();
    for (const length of [1, 8, gateway.apiKey.length - 1]) {
      expectProblem(await gateway.request("POST", VERIFY, { apiKey: gateway.apiKey.slice(0, length), body: { keys: [{ public_key: key }] } }), 401);
    }
    for (const truncated of [key.slice(0, 30), key.slice(0, -20), key.split(" ")[0], "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"]) {
      const response = await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: truncated }] } });
      expectProblem(response, 422);
      expect(response.json.errors[0].location).toBe("body.keys[0].public_key");
    }
    expect(await snapshot()).toEqual(before);
  });

  it("answers hostile paths and query strings with 404 or 422, never 500", async () => {
    const before = await snapshot();
    const probes: Array<[string, number]> = [
      [`${VERIFY}..%2F..%2Fetc%2Fpasswd/`, 422],
      [`${VERIFY}%F0%9F%98%80/`, 422],
      [`${VERIFY}'%20OR%201=1/`, 422],
      [`${VERIFY}%00/`, 422],
      [`${VERIFY}?limit=1e3`, 422],
      [`${VERIFY}?offset=0x10`, 422],
      [`${VERIFY}?status=pending'%20--`, 422],
      ["/api/v1/ssh/%2E%2E/verify/sessions/", 404],
    ];
    for (const [path, status] of probes) expectProblem(await gateway.request("GET", path), status);
    expect(await snapshot()).toEqual(before);
  });
});
