import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RequestContext } from "../../src/services/context.js";
import { databaseKinds } from "../support/databases.js";
import { waitFor } from "../support/wait-for.js";
import { startSshTestBed, type SshTestBed } from "../ssh/support/ssh-gateway.js";
import { ed25519KeyLine } from "../support/ssh-activity.js";
import { openSubscriptions, SubscriptionClients, waitUntilListening } from "./support/subscription-client.js";

const SESSION_FIELDS = `id status connectionIdentifier sshCommand createdAt
  keys { id publicKeySha256 verifiedAt }
  connections { ipAddress keys { sessionKeyId publicKeySha256 } }
  webhooks { url events }`;

const VERIFY_CHANGES = `subscription($id: ID) {
  verifySessionStatusChanged(id: $id) { previousStatus status changedAt session { ${SESSION_FIELDS} } }
}`;

const COLLECT_CHANGES = `subscription($id: ID) {
  collectSessionStatusChanged(id: $id) { previousStatus status changedAt session { id status keys { publicKeySha256 } } }
}`;

const SESSION_EVENTS = `subscription($id: ID!) { sessionEvents(id: $id) { event sessionId triggerTime payload } }`;

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe.each(databaseKinds())("GraphQL subscriptions on %s", (kind) => {
  let bed: SshTestBed;
  let clients: SubscriptionClients;
  let other: { key: string; context: RequestContext };

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
    clients = new SubscriptionClients(bed.gateway);
    const { project, apiKey } = await bed.gateway.services.apiKeys.createProject("other project");
    other = { key: apiKey.key, context: { projectId: project.id, apiKeyId: apiKey.id } };
  });

  afterEach(async () => {
    await clients.closeAll();
    await waitFor("every subscription to end", async () => (await openSubscriptions(bed.gateway)) === 0);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  const projectChannel = (projectId: string) => `session-status:project:${projectId}`;
  /** A verify session nobody logs in to; `complete` turns it FAILED. */
  const completableVerifySession = (context: RequestContext = bed.context) =>
    bed.gateway.services.sessions.create(context, "verify", { keys: [{ publicKey: ed25519KeyLine() }], multiConnection: true });

  it("sends {previousStatus: PENDING, status: VERIFIED} with the session's snapshot after a real OpenSSH verification", async () => {
    const key = bed.keys.generate("ed25519");
    // Webhooks for an event this test never causes: they are part of the snapshot, in order, and nothing is delivered.
    const session = await bed.verifySession([key], {
      webhooks: [
        { url: "https://hooks.example.com/ssh", events: ["failed_attempt"] },
        { url: "https://hooks.example.com/second", events: ["failed_attempt"] },
      ],
    });
    const own = await clients.connect(bed.gateway.apiKey);
    const bySession = own.subscribe(VERIFY_CHANGES, { id: session.id });
    const projectWide = own.subscribe(VERIFY_CHANGES);
    const stranger = await clients.connect(other.key);
    const otherProjectWide = stranger.subscribe(VERIFY_CHANGES);
    await waitUntilListening(bed.gateway, 3, [
      `session-status:session:${session.id}`,
      projectChannel(bed.context.projectId),
      projectChannel(other.context.projectId),
    ]);

    const login = await bed.ssh(session, { keys: [key] });

    expect(login.code).toBe(0);
    const [{ data, errors }] = await bySession.take(1);
    expect(errors).toBeUndefined();
    expect(data?.verifySessionStatusChanged).toEqual({
      previousStatus: "PENDING",
      status: "VERIFIED",
      changedAt: expect.stringMatching(ISO_TIME),
      session: {
        id: session.id,
        status: "VERIFIED",
        connectionIdentifier: session.connectionIdentifier,
        sshCommand: `ssh -p ${bed.gateway.sshPort} ${session.connectionIdentifier}@127.0.0.1`,
        createdAt: expect.stringMatching(ISO_TIME),
        keys: [{ id: session.keys[0].id, publicKeySha256: key.sha256, verifiedAt: expect.stringMatching(ISO_TIME) }],
        connections: [{ ipAddress: "127.0.0.1", keys: [{ sessionKeyId: session.keys[0].id, publicKeySha256: key.sha256 }] }],
        webhooks: [
          { url: "https://hooks.example.com/ssh", events: ["FAILED_ATTEMPT"] },
          { url: "https://hooks.example.com/second", events: ["FAILED_ATTEMPT"] },
        ],
      },
    });
    expect((await projectWide.take(1))[0]).toEqual({ data });

    // Events reach a subscriber in the order they were published, so the other project's first event is its own.
    const theirs = await completableVerifySession(other.context);
    await bed.gateway.services.sessions.complete(other.context, "verify", theirs.id);
    const [seen] = await otherProjectWide.take(1);
    expect(seen.data?.verifySessionStatusChanged).toMatchObject({ previousStatus: "PENDING", status: "FAILED", session: { id: theirs.id } });
  });

  it("sends a session's own changes only to the subscribers of that session and of its project and kind", async () => {
    const [first, second] = [await completableVerifySession(), await completableVerifySession()];
    const collect = await bed.create("collect", { multiConnection: true });
    const connection = await clients.connect(bed.gateway.apiKey);
    const onSecond = connection.subscribe(VERIFY_CHANGES, { id: second.id });
    const verifyWide = connection.subscribe(VERIFY_CHANGES);
    const collectWide = connection.subscribe(COLLECT_CHANGES);
    await waitUntilListening(bed.gateway, 3, [`session-status:session:${second.id}`, projectChannel(bed.context.projectId)]);

    await bed.gateway.services.sessions.complete(bed.context, "verify", first.id);
    await bed.gateway.services.sessions.complete(bed.context, "collect", collect.id);
    await bed.gateway.services.sessions.complete(bed.context, "verify", second.id);

    const [onlyChange] = await onSecond.take(1);
    expect(onlyChange.data?.verifySessionStatusChanged.session.id).toBe(second.id);
    const verifyChanges = await verifyWide.take(2);
    expect(verifyChanges.map((result) => result.data?.verifySessionStatusChanged.session.id)).toEqual([first.id, second.id]);
    const [collectChange] = await collectWide.take(1);
    expect(collectChange.data?.collectSessionStatusChanged).toMatchObject({
      previousStatus: "PENDING",
      status: "COMPLETED",
      session: { id: collect.id, status: "COMPLETED", keys: [] },
    });
    expect(onSecond.results).toHaveLength(1);
    expect(collectWide.results).toHaveLength(1);
  });

  it.each([
    ["another project's session", async () => (await completableVerifySession(other.context)).id, VERIFY_CHANGES],
    ["a session of the other kind", async () => (await bed.create("collect")).id, VERIFY_CHANGES],
    ["an unknown id", async () => "0197f7b8-0000-7000-8000-000000000000", COLLECT_CHANGES],
    ["another project's session events", async () => (await bed.gateway.services.sessions.create(other.context, "collect", {})).id, SESSION_EVENTS],
  ])("refuses %s with NOT_FOUND", async (_case, sessionId, query) => {
    const connection = await clients.connect(bed.gateway.apiKey);

    const stream = connection.subscribe(query, { id: await sessionId() });

    const [result] = await stream.take(1);
    expect(result.data).toBeUndefined();
    expect(result.errors).toEqual([expect.objectContaining({ extensions: { code: "NOT_FOUND" } })]);
    expect(await stream.ended()).toBeNull();
  });

  it("sends a session's events with the payloads its webhooks carry", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    const connection = await clients.connect(bed.gateway.apiKey);
    const events = connection.subscribe(SESSION_EVENTS, { id: session.id });
    await waitUntilListening(bed.gateway, 1, [`session-event:session:${session.id}`]);

    await bed.ssh(session, { keys: [key] });

    const received = await events.take(3);
    expect(received.map((result) => result.data?.sessionEvents.event)).toEqual(["NEW_CONNECTION", "VERIFIED", "STATUS_CHANGED"]);
    for (const result of received) {
      expect(result.data?.sessionEvents).toMatchObject({
        sessionId: session.id,
        triggerTime: expect.stringMatching(ISO_TIME),
        payload: { verify_session_id: session.id, verify_session_connection_identifier: session.connectionIdentifier },
      });
    }
    expect(received[2].data?.sessionEvents.payload).toMatchObject({
      verify_session_status: "verified",
      verify_session_previous_status: "pending",
    });
  });

  it("resolves every subscriber's session from the published snapshot, without a database read", async () => {
    const statementsOfComplete = async (delivered: () => Promise<unknown>) => {
      const counts: number[] = [];
      for (let run = 0; run < 3; run++) {
        const session = await completableVerifySession();
        const before = bed.gateway.services.database.statements.count;
        await bed.gateway.services.sessions.complete(bed.context, "verify", session.id);
        await delivered();
        counts.push(bed.gateway.services.database.statements.count - before);
      }
      // Background work shares the counter and can only add to it.
      return Math.min(...counts);
    };
    const alone = await statementsOfComplete(async () => undefined);
    const connection = await clients.connect(bed.gateway.apiKey);
    const streams = Array.from({ length: 20 }, (_, index) =>
      connection.subscribe(index % 2 === 0 ? VERIFY_CHANGES : `${VERIFY_CHANGES.replace("subscription(", "subscription Other(")}`),
    );
    await waitUntilListening(bed.gateway, 20, [projectChannel(bed.context.projectId)]);
    let runs = 0;

    const watched = await statementsOfComplete(async () => {
      runs++;
      await Promise.all(streams.map((stream) => stream.take(runs)));
    });

    expect(watched).toBe(alone);
    for (const stream of streams) expect(stream.results.every((result) => result.errors === undefined)).toBe(true);
  });
});
