import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FanOutSubscriber, MAX_BACKLOG_BYTES } from "../../src/graphql/subscriptions/fan-out-subscriber.js";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway, type TestGateway } from "../support/gateway.js";
import { waitFor } from "../support/wait-for.js";
import { ed25519KeyLine } from "../support/ssh-activity.js";
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

describe("a member of a fan-out group", () => {
  const recipient = (backlog = 0) => {
    const sent: string[] = [];
    return { sent, id: "7", backlog, send: (message: string) => sent.push(message) };
  };

  it("writes each result, serialized once for its group, as a graphql-ws next message under its own id", () => {
    const socket = recipient();
    const member = new FanOutSubscriber(socket, () => {});

    member.deliver(JSON.stringify({ data: { verifySessionStatusChanged: { status: "VERIFIED" } } }));

    expect(socket.sent.map((message) => JSON.parse(message))).toEqual([
      { id: "7", type: "next", payload: { data: { verifySessionStatusChanged: { status: "VERIFIED" } } } },
    ]);
  });

  it(`ends a subscriber with more than ${MAX_BACKLOG_BYTES} bytes waiting on its socket with SLOW_SUBSCRIBER`, async () => {
    let finished = 0;
    const socket = recipient(MAX_BACKLOG_BYTES + 1);
    const member = new FanOutSubscriber(socket, () => finished++);

    member.deliver(JSON.stringify({ data: {} }));

    expect(socket.sent).toEqual([]);
    const { value } = await member.next();
    expect(value?.errors).toEqual([expect.objectContaining({ message: `subscriber too slow: more than ${MAX_BACKLOG_BYTES} bytes waiting`, extensions: { code: "SLOW_SUBSCRIBER" } })]);
    expect(await member.next()).toEqual({ value: undefined, done: true });
    expect(finished).toBe(1);
  });

  it("answers a waiting next() at once when the subscriber leaves, and sends nothing after", async () => {
    let finished = 0;
    const socket = recipient();
    const member = new FanOutSubscriber(socket, () => finished++);
    const waiting = member.next();

    await member.return();

    expect(await waiting).toEqual({ value: undefined, done: true });
    member.deliver(JSON.stringify({ data: {} }));
    expect(socket.sent).toEqual([]);
    expect(finished).toBe(1);
  });
});
