import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { ed25519KeyLine, expectProblem, RFC3339_UTC, ServedSchemas } from "../rest/support/rest-fixtures.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const SESSION_KINDS = ["verify", "collect"] as const;
const MISSING = "00000000-0000-7000-8000-000000000000";

describe.each(databaseKinds())("webhook routes over REST on %s", (databaseKind) => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver;
  const schemas = new ServedSchemas();

  beforeAll(async () => {
    gateway = await startTestGateway(databaseKind);
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  describe.each(SESSION_KINDS)("of %s sessions", (kind) => {
    const sessions = `/api/v1/ssh/${kind}/sessions/`;
    const newSession = async (body: Record<string, unknown> = {}) => {
      const keys = kind === "verify" ? { keys: [{ public_key: ed25519KeyLine() }] } : {};
      const response = await gateway.request("POST", sessions, { body: { multi_connection: true, ...keys, ...body } });
      expect(response.status, response.text).toBe(201);
      return response.json as { id: string; webhooks: Array<{ id: string; secret: string }> };
    };

    it("lists schema and rule violations of a webhook body together in one 422", async () => {
      const session = await newSession();
      const hooks = `${sessions}${session.id}/webhooks/`;
      const wrongEvent = kind === "verify" ? "key_collected" : "verified";
      const body = { url: receiver.url(), headers: { "Webhook-Id": ["1"] }, retries: 99, events: [wrongEvent] };
      for (const [method, path] of [["POST", hooks]] as const) {
        const response = await gateway.request(method, path, { body });
        expectProblem(response, 422);
        expect(response.json.errors.map((error: { location: string }) => error.location).sort()).toEqual([
          "body.events[0]",
          "body.headers",
          "body.retries",
        ]);
      }
      const created = await gateway.request("POST", hooks, { body: { url: receiver.url() } });
      const patched = await gateway.request("PATCH", `${hooks}${created.json.id}/`, {
        body: { retries: -1, events: [wrongEvent] },
      });
      expect(patched.json.errors.map((error: { location: string }) => error.location).sort()).toEqual([
        "body.events[0]",
        "body.retries",
      ]);
    });

    it("creates a webhook (201, secret shown once), lists, reads, changes with PUT and PATCH, and deletes it", async () => {
      const session = await newSession();
      const hooks = `${sessions}${session.id}/webhooks/`;
      const created = await gateway.request("POST", hooks, {
        body: { $schema: "ignored", url: receiver.url(), headers: { "X-Team": ["blue"] }, retries: 3 },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.headers.get("link")).toBe('</schemas/Webhook.json>; rel="describedBy"');
      expect(created.json).toEqual({
        $schema: `${gateway.httpUrl}/schemas/Webhook.json`,
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        url: receiver.url(),
        method: "post",
        headers: { "X-Team": ["blue"] },
        events: [],
        retries: 3,
        initial_backoff: 10,
        backoff_multiplier: 2,
        secret: expect.stringMatching(/^whsec_/),
        created_at: expect.stringMatching(RFC3339_UTC),
        updated_at: created.json.created_at,
      });
      await schemas.expectValid(created.json);
      const hook = `${hooks}${created.json.id}/`;

      const fetched = await gateway.request("GET", hook.slice(0, -1));
      expect(fetched.status).toBe(200);
      expect(fetched.json).toEqual({ ...created.json, secret: null });
      await schemas.expectValid(fetched.json);

      const listed = await gateway.request("GET", hooks);
      const { $schema: _itemSchema, ...item } = fetched.json;
      expect(listed.json).toEqual({
        $schema: `${gateway.httpUrl}/schemas/WebhookList.json`,
        has_more: false,
        items: [item],
        limit: 100,
        offset: 0,
        total: 1,
      });
      await schemas.expectValid(listed.json);

      const patched = await gateway.request("PATCH", hook, { body: { method: "put", retries: null } });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.json).toMatchObject({ method: "put", retries: 0, url: receiver.url(), headers: { "X-Team": ["blue"] }, secret: null });
      const put = await gateway.request("PUT", hook, { body: { events: ["status_changed"], backoff_multiplier: 1.5 } });
      expect(put.status, put.text).toBe(200);
      expect(put.json).toMatchObject({ method: "put", events: ["status_changed"], backoff_multiplier: 1.5 });
      await schemas.expectValid(put.json);

      expect((await gateway.request("DELETE", hook)).status).toBe(204);
      expectProblem(await gateway.request("GET", hook), 404, { detail: "webhook not found" });
      expect((await gateway.request("GET", hooks)).json).toMatchObject({ items: [], total: 0 });
    });

    it("lists invocations with their attempts and retries one (202): the receiver gets it again under the same id", async () => {
      const session = await newSession({ webhooks: [{ url: receiver.url(`/${kind}-retry`), events: ["status_changed"] }] });
      const [webhook] = session.webhooks;
      const invocations = `${sessions}${session.id}/webhooks/${webhook.id}/invocations/`;
      expect((await gateway.request("POST", `${sessions}${session.id}/complete/`)).status).toBe(200);
      await receiver.waitFor((received) => received.some((request) => request.path === `/${kind}-retry`));
      const delivered = receiver.received.filter((request) => request.path === `/${kind}-retry`);
      expect(new StandardWebhook(webhook.secret).verify(delivered[0].body, delivered[0].headers as Record<string, string>)).toEqual(delivered[0].json);

      let listed = await gateway.request("GET", invocations);
      for (let tries = 0; listed.json.items[0]?.status !== "succeeded" && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        listed = await gateway.request("GET", invocations);
      }
      expect(listed.status).toBe(200);
      expect(listed.json).toEqual({
        $schema: `${gateway.httpUrl}/schemas/WebhookInvocationList.json`,
        has_more: false,
        items: [
          {
            id: delivered[0].json.webhook_invocation_id,
            event: "status_changed",
            status: "succeeded",
            trigger_time: delivered[0].json.trigger_time,
            attempts: [
              { attempt: 1, request_time: delivered[0].json.request_time, response_status: 204, response_body: "", error: null },
            ],
            next_attempt_at: null,
          },
        ],
        limit: 100,
        offset: 0,
        total: 1,
      });
      await schemas.expectValid(listed.json);

      const invocationId = listed.json.items[0].id as string;
      const retried = await gateway.request("POST", `${invocations}${invocationId}/retry/`);
      expect(retried.status, retried.text).toBe(202);
      expect(retried.json).toMatchObject({ id: invocationId, status: "pending", next_attempt_at: expect.stringMatching(RFC3339_UTC) });
      // A fresh validator: the list's validator already loaded WebhookInvocation.json as a referenced schema.
      await new ServedSchemas().expectValid(retried.json);
      const again = await receiver.waitFor((received) => received.filter((request) => request.path === `/${kind}-retry`).length === 2);
      const resent = again.filter((request) => request.path === `/${kind}-retry`)[1];
      expect(resent.headers["webhook-id"]).toBe(invocationId);
      expect(resent.json).toMatchObject({ webhook_invocation_id: invocationId, attempt: 2 });
    });

    it("answers 422 with every schema and rule violation located in the body", async () => {
      const session = await newSession();
      const hooks = `${sessions}${session.id}/webhooks/`;
      expectProblem(await gateway.request("POST", hooks, { body: { method: "get", retries: 21, colour: "red" } }), 422, {
        detail: "validation failed",
        errors: [
          expect.objectContaining({ location: "body", message: expect.stringContaining("url") }),
          expect.objectContaining({ location: "body.colour", message: "unexpected property" }),
          expect.objectContaining({ location: "body.method" }),
          expect.objectContaining({ location: "body.retries" }),
        ],
      });
      const otherKindEvent = kind === "verify" ? "key_collected" : "verified";
      expectProblem(
        await gateway.request("POST", hooks, {
          body: { url: "ftp://example.com/x", headers: { "webhook-id": ["forged"] }, events: ["status_changed", otherKindEvent] },
        }),
        422,
        {
          errors: [
            { location: "body.url", message: "expected an absolute http or https URL", value: "ftp://example.com/x" },
            { location: "body.headers", message: 'header "webhook-id" cannot be overridden', value: "webhook-id" },
            { location: "body.events[1]", message: expect.stringMatching(/^expected value to be one of/), value: otherKindEvent },
          ],
        },
      );
      const { json: created } = await gateway.request("POST", hooks, { body: { url: receiver.url() } });
      expectProblem(await gateway.request("PATCH", `${hooks}${created.id}/`, { body: { url: null } }), 422, {
        errors: [expect.objectContaining({ location: "body.url" })],
      });
      expectProblem(await gateway.request("GET", `${hooks}not-a-uuid/`), 422, {
        errors: [expect.objectContaining({ location: "path.webhook" })],
      });
      expectProblem(await gateway.request("GET", `${hooks}?limit=0`), 422, {
        errors: [expect.objectContaining({ location: "query.limit" })],
      });
    });

    it("answers 404 for another project's session, the other kind's path, and unknown webhooks or invocations", async () => {
      const session = await newSession({ webhooks: [{ url: receiver.url() }] });
      const hooks = `${sessions}${session.id}/webhooks/`;
      const hook = `${hooks}${session.webhooks[0].id}/`;
      const other = await gateway.services.apiKeys.createProject(`other-${kind}`);
      const asOther = { apiKey: other.apiKey.key };
      expectProblem(await gateway.request("GET", hooks, asOther), 404, { detail: `${kind} session not found` });
      expectProblem(await gateway.request("POST", hooks, { ...asOther, body: { url: receiver.url() } }), 404);
      expectProblem(await gateway.request("DELETE", hook, asOther), 404);
      const otherKind = kind === "verify" ? "collect" : "verify";
      expectProblem(await gateway.request("GET", hook.replace(`/${kind}/`, `/${otherKind}/`)), 404);
      expectProblem(await gateway.request("GET", `${hooks}${MISSING}/`), 404, { detail: "webhook not found" });
      expectProblem(await gateway.request("POST", `${hook}invocations/${MISSING}/retry/`), 404, {
        detail: "webhook invocation not found",
      });
      expectProblem(await gateway.request("GET", hooks, { apiKey: null }), 401);
    });
  });
});

describe.each(databaseKinds())("private webhook targets over REST with WEBHOOK_ALLOW_PRIVATE=false, on %s", (databaseKind) => {
  let gateway: TestGateway;

  beforeAll(async () => {
    gateway = await startTestGateway(databaseKind, { WEBHOOK_ALLOW_PRIVATE: "false" });
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  it("refuses a loopback target with a clear 422 when a session is created", async () => {
    const response = await gateway.request("POST", "/api/v1/ssh/collect/sessions/", { body: { webhooks: [{ url: "http://127.0.0.1:8080/hook" }] } });
    expectProblem(response, 422, {
      errors: [
        {
          location: "body.webhooks[0].url",
          message: "127.0.0.1 is a private or loopback address, which is not allowed",
          value: "http://127.0.0.1:8080/hook",
        },
      ],
    });
  });

  it("refuses a metadata address with a clear 422 when a webhook is created or its url changed", async () => {
    const { json: session } = await gateway.request("POST", "/api/v1/ssh/collect/sessions/", { body: {} });
    const hooks = `/api/v1/ssh/collect/sessions/${session.id}/webhooks/`;
    const refused = {
      errors: [
        {
          location: "body.url",
          message: "169.254.169.254 is a private or loopback address, which is not allowed",
          value: "http://169.254.169.254/latest/meta-data",
        },
      ],
    };
    expectProblem(await gateway.request("POST", hooks, { body: { url: "http://169.254.169.254/latest/meta-data" } }), 422, refused);
    const created = await gateway.request("POST", hooks, { body: { url: "http://93.184.216.34/hook" } });
    expect(created.status, created.text).toBe(201);
    expectProblem(
      await gateway.request("PUT", `${hooks}${created.json.id}/`, { body: { url: "http://169.254.169.254/latest/meta-data" } }),
      422,
      refused,
    );
  });
});
