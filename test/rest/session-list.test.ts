import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "../../src/db/entities/index.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem, ServedSchemas } from "./support/rest-fixtures.js";
import { recordConnection } from "../support/ssh-activity.js";

const VERIFY = "/api/v1/ssh/verify/sessions/";
const COLLECT = "/api/v1/ssh/collect/sessions/";

interface Summary {
  id: string;
  created_at: string;
}

/** SPEC §4's order: newest first by creation time, ties broken by id. */
const newestFirst = (a: Summary, b: Summary) =>
  b.created_at.localeCompare(a.created_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

describe.each(databaseKinds())("the session list envelope on %s", (kind) => {
  let gateway: TestGateway;
  /** A project of its own holding exactly seven verify sessions. */
  let sevenKey: string;
  let seven: Summary[];
  const schemas = new ServedSchemas();

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    sevenKey = (await gateway.services.apiKeys.createProject("seven")).apiKey.key;
    const created: Summary[] = [];
    for (let index = 0; index < 7; index++) {
      const response = await gateway.request("POST", VERIFY, {
        apiKey: sevenKey,
        body: { keys: [{ public_key: ed25519KeyLine() }], external_id: `item-${index}` },
      });
      created.push(response.json);
    }
    seven = [...created].sort(newestFirst);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("pages a 7-item list with limit 3 at every offset: right total and has_more, newest first", async () => {
    const seen: string[] = [];
    for (let offset = 0; offset <= 8; offset++) {
      const response = await gateway.request("GET", `${VERIFY}?offset=${offset}&limit=3`, { apiKey: sevenKey });
      expect(response.status).toBe(200);
      const expected = seven.slice(offset, offset + 3).map((session) => session.id);
      expect(response.json).toMatchObject({ offset, limit: 3, total: 7, has_more: offset + expected.length < 7 });
      expect(response.json.items.map((item: Summary) => item.id)).toEqual(expected);
      if (offset % 3 === 0) seen.push(...expected);
      await schemas.expectValid(response.json);
    }
    expect(seen).toEqual(seven.map((session) => session.id));
    expect(new Set(seen).size).toBe(7);
  });

  it("uses offset 0 and limit 100 by default and shows every summary field", async () => {
    const response = await gateway.request("GET", VERIFY, { apiKey: sevenKey });
    expect(response.headers.get("link")).toBe('</schemas/VerifySessionList.json>; rel="describedBy"');
    expect(response.json).toMatchObject({
      $schema: `${gateway.httpUrl}/schemas/VerifySessionList.json`,
      offset: 0,
      limit: 100,
      total: 7,
      has_more: false,
    });
    expect(Object.keys(response.json.items[0]).sort()).toEqual([
      "connection_identifier",
      "created_at",
      "expired_at",
      "external_id",
      "id",
      "match_all_keys",
      "max_attempts",
      "multi_connection",
      "multi_key",
      "must_confirm",
      "ssh_banner",
      "ssh_message",
      "status",
      "updated_at",
    ]);
  });

  it("caps limit=1000 to 100 items and answers limit: 100", async () => {
    const { project, apiKey } = await gateway.services.apiKeys.createProject("many");
    const context: RequestContext = { projectId: project.id, apiKeyId: apiKey.id };
    for (let index = 0; index < 101; index++) await gateway.services.sessions.create(context, "collect", {});
    const response = await gateway.request("GET", `${COLLECT}?limit=1000`, { apiKey: apiKey.key });
    expect(response.json).toMatchObject({ limit: 100, offset: 0, total: 101, has_more: true });
    expect(response.json.items).toHaveLength(100);
    const rest = await gateway.request("GET", `${COLLECT}?limit=1000&offset=100`, { apiKey: apiKey.key });
    expect(rest.json).toMatchObject({ limit: 100, offset: 100, total: 101, has_more: false });
    expect(rest.json.items).toHaveLength(1);
  });

  it("answers an empty page as items: [] with has_more false", async () => {
    const { apiKey } = await gateway.services.apiKeys.createProject("empty");
    const response = await gateway.request("GET", VERIFY, { apiKey: apiKey.key });
    expect(response.json).toEqual({
      $schema: `${gateway.httpUrl}/schemas/VerifySessionList.json`,
      has_more: false,
      items: [],
      limit: 100,
      offset: 0,
      total: 0,
    });
  });

  it("filters by status as reported, and by the exact external_id", async () => {
    const { project, apiKey } = await gateway.services.apiKeys.createProject("filters");
    const key = apiKey.key;
    const line = ed25519KeyLine();
    const make = async (body: Record<string, unknown>) =>
      (await gateway.request("POST", VERIFY, { apiKey: key, body: { keys: [{ public_key: line }], ...body } })).json;
    const pending = await make({ external_id: "Alice" });
    const verified = await make({ external_id: "alice" });
    await recordConnection(gateway.services, verified.id, [{ keyLine: line, sessionKeyId: verified.keys[0].id }]);
    const failed = await make({ multi_connection: true });
    await gateway.request("POST", `${VERIFY}${failed.id}/complete/`, { apiKey: key });
    const expired = await make({ external_id: "Alice", timeout: 60 });
    // Arranged in the database: an expiry that has passed, which the API itself never accepts.
    await gateway.services.database.transaction(({ manager }) =>
      manager.update(Session, { id: expired.id }, { expiredAt: new Date(Date.now() - 1000) }),
    );
    const ids = async (query: string) => {
      const response = await gateway.request("GET", `${VERIFY}?${query}`, { apiKey: key });
      expect(response.status, response.text).toBe(200);
      return response.json.items.map((item: Summary) => item.id);
    };
    expect(await ids("status=pending")).toEqual([pending.id]);
    expect(await ids("status=verified")).toEqual([verified.id]);
    expect(await ids("status=failed")).toEqual([failed.id]);
    expect(await ids("status=expired")).toEqual([expired.id]);
    expect(await ids("external_id=Alice")).toEqual([expired.id, pending.id]);
    expect(await ids("external_id=alice")).toEqual([verified.id]);
    expect(await ids("external_id=Alice%20")).toEqual([]);
    expect(await ids("external_id=Alice&status=pending")).toEqual([pending.id]);
    expect(await ids("status=&external_id=")).toHaveLength(4);
    const read = await gateway.request("GET", `${VERIFY}${expired.id}/`, { apiKey: key });
    expect(read.json.status).toBe("expired");
    expect(project.name).toBe("filters");
  });

  it("keeps projects apart: another project's key gets 404 and never sees the session in a list", async () => {
    const { apiKey } = await gateway.services.apiKeys.createProject("other");
    const mine = (await gateway.request("POST", VERIFY, { body: { keys: [{ public_key: ed25519KeyLine() }], external_id: "mine" } })).json;
    const theirs = { apiKey: apiKey.key };
    expectProblem(await gateway.request("GET", `${VERIFY}${mine.id}/`, theirs), 404);
    expectProblem(await gateway.request("PATCH", `${VERIFY}${mine.id}/`, { ...theirs, body: { external_id: "x" } }), 404);
    expectProblem(await gateway.request("POST", `${VERIFY}${mine.id}/complete/`, theirs), 404);
    expectProblem(await gateway.request("DELETE", `${VERIFY}${mine.id}/`, theirs), 404);
    const list = await gateway.request("GET", `${VERIFY}?external_id=mine`, theirs);
    expect(list.json).toMatchObject({ total: 0, items: [] });
    const everything = await gateway.request("GET", `${VERIFY}?limit=100`, theirs);
    expect(everything.json.items.map((item: Summary) => item.id)).not.toContain(mine.id);
    const still = await gateway.request("GET", `${VERIFY}${mine.id}/`);
    expect(still.json.external_id).toBe("mine");
  });
});
