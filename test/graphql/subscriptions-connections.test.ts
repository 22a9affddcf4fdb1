import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MAX_QUERY_DEPTH } from "../../src/graphql/query-limits.js";
import { MAX_SUBSCRIPTIONS_PER_CONNECTION } from "../../src/graphql/subscriptions/subscription-server.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { runCli } from "../support/processes.js";
import { outsideMinuteBoundary } from "../support/rate-windows.js";
import { waitFor } from "../support/wait-for.js";
import { ed25519KeyLine } from "../support/ssh-activity.js";
import { openSubscriptions, SubscriptionClients, waitUntilListening } from "./support/subscription-client.js";

const VERIFY_CHANGES = `subscription { verifySessionStatusChanged { status session { id } } }`;

/** A project of its own with its first key, so tests do not share keys or allowances. */
async function newProject(gateway: TestGateway, name: string): Promise<{ key: string; context: RequestContext }> {
  const { project, apiKey } = await gateway.services.apiKeys.createProject(name);
  return { key: apiKey.key, context: { projectId: project.id, apiKeyId: apiKey.id } };
}

async function failVerifySession(gateway: TestGateway, context: RequestContext): Promise<string> {
  const session = await gateway.services.sessions.create(context, "verify", { keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true });
  await gateway.services.sessions.complete(context, "verify", session.id);
  return session.id;
}

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.log("a CLI revocation through Redis: not run, TEST_REDIS_URL is not set");

describe.each(databaseKinds())("GraphQL over WebSocket: connections on %s", (kind) => {
  let gateway: TestGateway;
  let clients: SubscriptionClients;

  beforeAll(async () => {
    // A long re-check: closing a revoked key's connections here can only be the revocation's own publish.
    gateway = await startTestGateway(kind, {}, { subscriptionKeyRecheckMs: 3_600_000 });
    clients = new SubscriptionClients(gateway);
  });

  afterEach(async () => {
    await clients.closeAll();
    await waitFor("every subscription to end", async () => (await openSubscriptions(gateway)) === 0);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  // The CLI reaches the instances through Redis only; without it, "closes the connections of a key revoked with
  // the CLI at the next re-check" below covers the CLI.
  if (redisUrl) {
    it("closes the connections of a key revoked with the CLI at once, through Redis", async () => {
      const project = await newProject(gateway, "cli revocation through Redis");
      const connection = await clients.connect(project.key);
      connection.subscribe(VERIFY_CHANGES);
      await waitUntilListening(gateway, 1, ["api-key:revoked"]);

      const revoked = await runCli(["key", "revoke", project.context.apiKeyId], { DATABASE_URL: gateway.database.url, REDIS_URL: redisUrl });

      expect(revoked.code, revoked.stderr).toBe(0);
      // The re-check here runs once an hour: this close can only come from the CLI's publish.
      expect(await connection.closed).toEqual({ code: 4401, reason: "API key revoked" });
    });
  }

  it.each([
    ["without connectionParams", undefined, "missing x-api-key in connectionParams"],
    ["without x-api-key", { authorization: "Bearer x" }, "missing x-api-key in connectionParams"],
    ["with an x-api-key that is not a string", { "x-api-key": 42 }, "missing x-api-key in connectionParams"],
    ["with an unknown x-api-key", { "x-api-key": "svk_not_a_key" }, "invalid, revoked or expired API key"],
  ])("closes a connection %s with 4401 and the reason", async (_case, connectionParams, reason) => {
    const connection = clients.connectRaw(connectionParams);

    expect(await connection.closed).toEqual({ code: 4401, reason });
  });

  it("closes the connections of a revoked key at once and keeps those of other keys", async () => {
    const project = await newProject(gateway, "revocation");
    const second = await gateway.services.apiKeys.createApiKey(project.context.projectId, { name: "second" });
    const revoked = await clients.connect(project.key);
    const kept = await clients.connect(second.key);
    const endedByRevocation = revoked.subscribe(VERIFY_CHANGES);
    const staying = kept.subscribe(VERIFY_CHANGES);
    await waitUntilListening(gateway, 2, ["api-key:revoked"]);

    await gateway.services.apiKeys.revokeApiKey(project.context.apiKeyId);

    expect(await revoked.closed).toEqual({ code: 4401, reason: "API key revoked" });
    expect(await endedByRevocation.ended()).toMatchObject({ code: 4401 });
    const sessionId = await failVerifySession(gateway, project.context);
    const [change] = await staying.take(1);
    expect(change.data?.verifySessionStatusChanged).toEqual({ status: "FAILED", session: { id: sessionId } });
  });

  it.each([
    ["a query", "{ verifySessions(first: 1) { totalCount } }", "BAD_REQUEST", "only subscriptions run over WebSocket; send queries and mutations to POST /graphql"],
    ["a mutation", `mutation { deleteVerifySession(id: "x") }`, "BAD_REQUEST", "only subscriptions run over WebSocket; send queries and mutations to POST /graphql"],
    ["text that does not parse", "subscription {", "GRAPHQL_PARSE_FAILED", "Syntax Error: Expected Name, found <EOF>."],
    ["an unknown field", "subscription { verifySessionStatusChanged { colour } }", "GRAPHQL_VALIDATION_FAILED", 'Cannot query field "colour" on type "VerifySessionStatusChange".'],
    [
      "a document nested deeper than the limit",
      // Each inline fragment is one level; the field and its selection two more.
      `subscription { ${"... on Subscription { ".repeat(MAX_QUERY_DEPTH)} verifySessionStatusChanged { status } ${"} ".repeat(MAX_QUERY_DEPTH)} }`,
      "GRAPHQL_VALIDATION_FAILED",
      `query nesting depth ${MAX_QUERY_DEPTH + 2} exceeds the limit of ${MAX_QUERY_DEPTH}`,
    ],
    ["a missing id", "subscription { sessionEvents { event } }", "GRAPHQL_VALIDATION_FAILED", 'Field "sessionEvents" argument "id" of type "ID!" is required, but it was not provided.'],
  ])("answers %s with an error and keeps the connection open", async (_case, query, code, message) => {
    const connection = await clients.connect(gateway.apiKey);

    const refused = connection.subscribe(query);

    expect(await refused.ended()).toEqual([expect.objectContaining({ message, extensions: expect.objectContaining({ code }) })]);
    const allowed = connection.subscribe(VERIFY_CHANGES);
    await waitUntilListening(gateway, 1);
    expect(allowed.completed).toBe(false);
  });

  it(`refuses subscription ${MAX_SUBSCRIPTIONS_PER_CONNECTION + 1} on one connection`, async () => {
    const connection = await clients.connect(gateway.apiKey);
    const streams = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CONNECTION }, () => connection.subscribe(VERIFY_CHANGES));
    await waitUntilListening(gateway, MAX_SUBSCRIPTIONS_PER_CONNECTION);

    const refused = connection.subscribe(VERIFY_CHANGES);

    expect(await refused.ended()).toEqual([
      expect.objectContaining({
        message: `at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection`,
        extensions: { code: "BAD_REQUEST" },
      }),
    ]);
    expect(streams.some((stream) => stream.completed)).toBe(false);
    expect(gateway.subscriptions.groupCount).toBe(1);
  });
});

describe.each(databaseKinds())("GraphQL over WebSocket: limits and shutdown on %s", (kind) => {
  const LIMIT = 3;
  let gateway: TestGateway;
  let clients: SubscriptionClients;
  let stopped = false;

  beforeAll(async () => {
    gateway = await startTestGateway(kind, { RATE_LIMIT_PER_MINUTE: String(LIMIT) }, { subscriptionKeyRecheckMs: 200 });
    clients = new SubscriptionClients(gateway);
  });

  afterEach(async () => {
    await clients.closeAll();
    if (!stopped) await waitFor("every subscription to end", async () => (await openSubscriptions(gateway)) === 0);
  });

  afterAll(async () => {
    if (!stopped) await gateway?.stop();
  });

  it("closes the connections of a key revoked with the CLI at the next re-check", async () => {
    const project = await newProject(gateway, "cli revocation");
    const connection = await clients.connect(project.key);

    const revoked = await runCli(["key", "revoke", project.context.apiKeyId], { DATABASE_URL: gateway.database.url });

    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await connection.closed).toEqual({ code: 4401, reason: "API key revoked or expired" });
  });

  it("closes the connections of a key once it expires", async () => {
    const project = await newProject(gateway, "expiry");
    const expiring = await gateway.services.apiKeys.createApiKey(project.context.projectId, { expiredAt: new Date(Date.now() + 3_000) });
    const connection = await clients.connect(expiring.key);

    expect(await connection.closed).toEqual({ code: 4401, reason: "API key revoked or expired" });
  });

  it("counts each subscribe against RATE_LIMIT_PER_MINUTE of the caller's project", async () => {
    const project = await newProject(gateway, "rate limited");
    await outsideMinuteBoundary();
    const connection = await clients.connect(project.key);
    const allowed = Array.from({ length: LIMIT }, () => connection.subscribe(VERIFY_CHANGES));

    const limited = connection.subscribe(VERIFY_CHANGES);

    expect(await limited.ended()).toEqual([
      expect.objectContaining({ extensions: expect.objectContaining({ code: "RATE_LIMITED", retryAfter: expect.any(Number) }) }),
    ]);
    expect(allowed.some((stream) => stream.completed)).toBe(false);
  });

  it("closes every connection with 1001 Going away when the gateway stops", async () => {
    const connection = await clients.connect(gateway.apiKey);
    const stream = connection.subscribe(VERIFY_CHANGES);
    await waitUntilListening(gateway, 1);

    stopped = true;
    await gateway.stop();

    expect(await connection.closed).toEqual({ code: 1001, reason: "Going away" });
    expect(await stream.ended()).toMatchObject({ code: 1001 });
  });
});
