import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SubscriberQueue } from "../../src/graphql/subscriptions/subscriber-queue.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { waitFor } from "../support/wait-for.js";
import { ed25519KeyLine } from "./support/session-fixtures.js";
import { openSubscriptions, SubscriptionClients, waitUntilListening } from "./support/subscription-client.js";

const CHANGES = `subscription($id: ID) { verifySessionStatusChanged(id: $id) { status session { id sshCommand keys { publicKeySsh } } } }`;
const STATUS_ONLY = `subscription { verifySessionStatusChanged { status } }`;

describe.each(databaseKinds())("one execution per event for equal subscriptions on %s", (kind) => {
  let gateway: TestGateway;
  let clients: SubscriptionClients;
  let caller: RequestContext;

  beforeAll(async () => {
    gateway = await startTestGateway(kind);
    clients = new SubscriptionClients(gateway);
    caller = await gateway.services.apiKeys.authenticate(gateway.apiKey);
  });

  afterEach(async () => {
    await clients.closeAll();
    await waitFor("every subscription to end", async () => (await openSubscriptions(gateway)) === 0);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  const pendingSession = () =>
    gateway.services.sessions.create(caller, "verify", { keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true });
  const projectChannel = () => `session-status:project:${caller.projectId}`;

  it("groups subscribers of one document, variables, project and host, and hands each the same result", async () => {
    const connections = await Promise.all(Array.from({ length: 4 }, () => clients.connect(gateway.apiKey)));
    const streams = connections.flatMap((connection) => [connection.subscribe(CHANGES), connection.subscribe(CHANGES)]);
    await waitUntilListening(gateway, 8, [projectChannel()]);

    expect(gateway.subscriptions.groupCount).toBe(1);
    const session = await pendingSession();
    await gateway.services.sessions.complete(caller, "verify", session.id);

    const results = await Promise.all(streams.map(async (stream) => (await stream.take(1))[0]));
    expect(results[0].data?.verifySessionStatusChanged).toMatchObject({ status: "FAILED", session: { id: session.id } });
    for (const result of results) expect(result).toEqual(results[0]);
  });

  it("keeps apart subscriptions whose results may differ: document, variables, project, host", async () => {
    const session = await pendingSession();
    const { apiKey: otherKey } = await gateway.services.apiKeys.createProject("other");
    const plain = (await clients.connect(gateway.apiKey)).subscribe(CHANGES);
    const otherDocument = (await clients.connect(gateway.apiKey)).subscribe(STATUS_ONLY);
    const otherVariables = (await clients.connect(gateway.apiKey)).subscribe(CHANGES, { id: session.id });
    const otherProject = (await clients.connect(otherKey.key)).subscribe(CHANGES);
    const otherHost = (await clients.connect(gateway.apiKey, "ssh.example.com")).subscribe(CHANGES);
    await waitUntilListening(gateway, 5, [projectChannel(), `session-status:session:${session.id}`]);

    expect(gateway.subscriptions.groupCount).toBe(5);
    await gateway.services.sessions.complete(caller, "verify", session.id);

    const sshCommand = (host: string) => `ssh -p ${gateway.sshPort} ${session.connectionIdentifier}@${host}`;
    expect((await plain.take(1))[0].data?.verifySessionStatusChanged.session.sshCommand).toBe(sshCommand("127.0.0.1"));
    expect((await otherHost.take(1))[0].data?.verifySessionStatusChanged.session.sshCommand).toBe(sshCommand("ssh.example.com"));
    expect((await otherDocument.take(1))[0].data).toEqual({ verifySessionStatusChanged: { status: "FAILED" } });
    expect((await otherVariables.take(1))[0].data?.verifySessionStatusChanged.session.id).toBe(session.id);
    // The other project's first event is its own: ours never reached it.
    const theirContext = await gateway.services.apiKeys.authenticate(otherKey.key);
    const theirs = await gateway.services.sessions.create(theirContext, "verify", { keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true });
    await gateway.services.sessions.complete(theirContext, "verify", theirs.id);
    expect((await otherProject.take(1))[0].data?.verifySessionStatusChanged.session.id).toBe(theirs.id);
  });

  it("ends a group with its last subscriber, and starts a fresh one for the next", async () => {
    const connection = await clients.connect(gateway.apiKey);
    const first = connection.subscribe(CHANGES);
    await waitUntilListening(gateway, 1);

    first.unsubscribe();

    await waitFor("the group to end", () => gateway.subscriptions.groupCount === 0);
    const second = connection.subscribe(CHANGES);
    await waitUntilListening(gateway, 1, [projectChannel()]);
    const session = await pendingSession();
    await gateway.services.sessions.complete(caller, "verify", session.id);
    expect((await second.take(1))[0].data?.verifySessionStatusChanged.session.id).toBe(session.id);
  });
});

describe("a subscriber's queue", () => {
  it("ends a subscriber that falls behind by its capacity with SLOW_SUBSCRIBER, after the results before it", async () => {
    let finished = 0;
    const queue = new SubscriberQueue<number>(3, () => finished++);

    for (let value = 1; value <= 5; value++) queue.push(value);

    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
    await expect(queue.next()).rejects.toMatchObject({ message: "subscriber too slow: 3 events were waiting", extensions: { code: "SLOW_SUBSCRIBER" } });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(finished).toBe(1);
  });

  it("answers a waiting next() at once when the subscriber leaves", async () => {
    let finished = 0;
    const queue = new SubscriberQueue<number>(3, () => finished++);
    const waiting = queue.next();

    await queue.return();

    expect(await waiting).toEqual({ value: undefined, done: true });
    queue.push(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(finished).toBe(1);
  });

  it("hands a waiting next() the next result, and ends after the buffered ones when the source ends", async () => {
    const queue = new SubscriberQueue<number>(3, () => {});
    const waiting = queue.next();
    queue.push(1);
    queue.push(2);
    queue.end();

    expect(await waiting).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });
});
