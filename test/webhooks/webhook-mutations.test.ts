import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { graphql, graphqlData } from "../graphql/support/graphql-client.js";
import { ed25519KeyLine } from "../rest/support/rest-fixtures.js";
import { settled, waitForInvocations } from "./support/invocations.js";
import { contextOf } from "./support/webhook-sessions.js";
import { WebhookReceiver } from "./support/webhook-receiver.js";

const WEBHOOK_FIELDS = "id url method headers { name values } events retries initialBackoff backoffMultiplier secret createdAt updatedAt";
const INVOCATION_FIELDS = "id webhookId sessionId event status triggerTime nextAttemptAt attempts { attempt requestTime responseStatus responseBody error }";

const CREATE = `mutation ($sessionId: ID!, $input: WebhookInput!) { createWebhook(sessionId: $sessionId, input: $input) { ${WEBHOOK_FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK_FIELDS} } }`;
const DELETE = "mutation ($id: ID!) { deleteWebhook(id: $id) }";
const RETRY = `mutation ($id: ID!) { retryWebhookInvocation(id: $id) { ${INVOCATION_FIELDS} } }`;

describe.each(databaseKinds())("webhook mutations over GraphQL on %s", (databaseKind) => {
  let gateway: TestGateway;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    gateway = await startTestGateway(databaseKind);
    receiver = await WebhookReceiver.start();
  });

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.stop();
  });

  const newVerifySession = async () => {
    const data = await graphqlData(gateway, "mutation ($input: CreateVerifySessionInput!) { createVerifySession(input: $input) { id } }", {
      input: { keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true },
    });
    return data.createVerifySession.id as string;
  };
  const newCollectSession = async () => {
    const data = await graphqlData(gateway, "mutation { createCollectSession(input: { multiConnection: true }) { id } }");
    return data.createCollectSession.id as string;
  };

  it("creates a webhook on a session of either kind, showing the secret only in that answer", async () => {
    for (const sessionId of [await newVerifySession(), await newCollectSession()]) {
      const { createWebhook } = await graphqlData(gateway, CREATE, {
        sessionId,
        input: { url: receiver.url(), method: "PUT", headers: [{ name: "X-Team", values: ["a", "b"] }], events: ["STATUS_CHANGED"] },
      });
      expect(createWebhook).toMatchObject({
        url: receiver.url(),
        method: "PUT",
        headers: [{ name: "X-Team", values: ["a", "b"] }],
        events: ["STATUS_CHANGED"],
        retries: 0,
        initialBackoff: 10,
        backoffMultiplier: 2,
        secret: expect.stringMatching(/^whsec_/),
      });
      const read = await graphqlData(
        gateway,
        "query ($id: ID!) { node(id: $id) { ... on VerifySession { webhooks { id secret } } ... on CollectSession { webhooks { id secret } } } }",
        { id: sessionId },
      );
      expect(read.node.webhooks).toEqual([{ id: createWebhook.id, secret: null }]);
    }
  });

  it("updates only the fields given, null restoring a default, and deletes", async () => {
    const sessionId = await newVerifySession();
    const { createWebhook: created } = await graphqlData(gateway, CREATE, { sessionId, input: { url: receiver.url(), retries: 4 } });
    const { updateWebhook } = await graphqlData(gateway, UPDATE, { id: created.id, input: { method: "PATCH", retries: null, events: ["VERIFIED"] } });
    expect(updateWebhook).toMatchObject({ id: created.id, url: receiver.url(), method: "PATCH", retries: 0, events: ["VERIFIED"], secret: null });

    const { deleteWebhook } = await graphqlData(gateway, DELETE, { id: created.id });
    expect(deleteWebhook).toBe(created.id);
    const gone = await graphql(gateway, UPDATE, { id: created.id, input: { retries: 1 } });
    expect(gone.errors?.[0]).toMatchObject({ message: "webhook not found", extensions: { code: "NOT_FOUND" } });
  });

  it("reports rule violations as BAD_USER_INPUT with input paths", async () => {
    const sessionId = await newCollectSession();
    const created = await graphql(gateway, CREATE, { sessionId, input: { url: "ftp://example.com", events: ["VERIFIED"], retries: 21 } });
    expect(created.errors?.[0].extensions).toEqual({
      code: "BAD_USER_INPUT",
      errors: [
        { location: "input.url", message: "expected an absolute http or https URL", value: "ftp://example.com" },
        { location: "input.events[0]", message: 'expected value to be one of "new_connection, key_collected, status_changed"', value: "verified" },
        { location: "input.retries", message: "expected number between 0 and 20", value: 21 },
      ],
    });
    const { createWebhook } = await graphqlData(gateway, CREATE, { sessionId, input: { url: receiver.url() } });
    const cleared = await graphql(gateway, UPDATE, { id: createWebhook.id, input: { url: null } });
    expect(cleared.errors?.[0].extensions?.errors).toEqual([
      { location: "input.url", message: "expected an absolute http or https URL", value: null },
    ]);
  });

  it("finds nothing of another project: NOT_FOUND", async () => {
    const sessionId = await newVerifySession();
    const { createWebhook } = await graphqlData(gateway, CREATE, { sessionId, input: { url: receiver.url() } });
    const other = await gateway.services.apiKeys.createProject("graphql-other");
    const asOther = { apiKey: other.apiKey.key };
    for (const [query, variables] of [
      [CREATE, { sessionId, input: { url: receiver.url() } }],
      [UPDATE, { id: createWebhook.id, input: { retries: 1 } }],
      [DELETE, { id: createWebhook.id }],
      [RETRY, { id: "00000000-0000-7000-8000-000000000000" }],
    ] as const) {
      const result = await graphql(gateway, query, variables, asOther);
      expect(result.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    }
  });

  it("retries a failed invocation: due at once, delivered under the same id as attempt 2", async () => {
    receiver.respondWith((request) => (request.path === "/graphql-retry" && request.json.attempt === 1 ? { status: 500 } : { status: 204 }));
    const sessionId = await newCollectSession();
    const { createWebhook } = await graphqlData(gateway, CREATE, { sessionId, input: { url: receiver.url("/graphql-retry") } });
    await graphqlData(gateway, "mutation ($id: ID!) { completeCollectSession(id: $id) { status } }", { id: sessionId });
    const [first] = await receiver.waitFor((received) => received.some((request) => request.path === "/graphql-retry"));
    const invocationId = first.json.webhook_invocation_id as string;
    const [invocation] = await waitForInvocations(gateway, await contextOf(gateway), createWebhook.id, (items) => items.length > 0 && settled(items[0]));
    expect(invocation.status).toBe("failed");

    const { retryWebhookInvocation } = await graphqlData(gateway, RETRY, { id: invocationId });
    expect(retryWebhookInvocation).toMatchObject({
      id: invocationId,
      webhookId: createWebhook.id,
      sessionId,
      event: "STATUS_CHANGED",
      status: "PENDING",
      attempts: [{ attempt: 1, responseStatus: 500, error: "expected a 2xx status, got 500" }],
    });
    const received = await receiver.waitFor((requests) => requests.filter((request) => request.path === "/graphql-retry").length === 2);
    const second = received.filter((request) => request.path === "/graphql-retry")[1];
    expect(second.json).toMatchObject({ webhook_invocation_id: invocationId, attempt: 2 });
    expect(new StandardWebhook(createWebhook.secret).verify(second.body, second.headers as Record<string, string>)).toEqual(second.json);
  });
});
