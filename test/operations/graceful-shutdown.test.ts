import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import http from "node:http";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { Session } from "../../src/db/entities/index.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";
import { sendRequest } from "../support/gateway.js";
import { stopProcess } from "../support/processes.js";
import { waitFor } from "../support/wait-for.js";
import { SubscriptionClients } from "../graphql/support/subscription-client.js";
import { baseSshArgs, KeyRing, type TestKey } from "../ssh/support/openssh.js";
import { newBootstrapKey } from "../webhooks/support/service-processes.js";
import { type GatewayProcess, logLines, startGatewayProcess } from "./support/gateway-processes.js";

const PROMPT = "Press y to confirm: ";
const STATUS_CHANGES = "subscription($id: ID!) { verifySessionStatusChanged(id: $id) { previousStatus status } }";

/** A real `ssh -tt` whose stdin the test writes to, as the person at the keyboard. */
interface InteractiveSsh {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  exited: Promise<number | null>;
}

function startInteractiveSsh(port: number, user: string, key: TestKey): InteractiveSsh {
  const child = spawn("/usr/bin/ssh", [...baseSshArgs(port), "-i", key.path, "-tt", `${user}@127.0.0.1`]);
  let stdout = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, stdout: () => stdout, exited };
}

/** True once the HTTP listener refuses new connections: the gateway has begun to drain. */
async function refusesConnections(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/healthz`);
    return false;
  } catch {
    return true;
  }
}

describe.each(databaseKinds())("SIGTERM on a gateway process on %s", (kind) => {
  let database: TestDatabase;
  let apiKey: string;
  let gateway: GatewayProcess | undefined;
  const keys = new KeyRing();

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    apiKey = newBootstrapKey();
  });
  afterAll(() => keys.remove());
  afterEach(async () => {
    if (gateway) await stopProcess(gateway.child, "SIGKILL");
    gateway = undefined;
    await database.drop();
  });

  async function start(graceSeconds: number): Promise<{ gateway: GatewayProcess; sshPort: number }> {
    gateway = await startGatewayProcess(database.url, apiKey, null, { SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });
    const started = logLines(gateway.output()).find((line) => line.msg === "SSH server listening");
    return { gateway, sshPort: Number(String(started?.ssh).split(":").pop()) };
  }

  /** A verify session that waits for the person's `y`, so a verification is in progress for as long as the test likes. */
  async function confirmingSession(url: string, key: TestKey): Promise<{ id: string; connection_identifier: string }> {
    const created = await sendRequest(url, apiKey, "POST", "/api/v1/ssh/verify/sessions/", {
      body: { keys: [{ public_key: key.publicKey }], must_confirm: true },
    });
    expect(created.status, created.text).toBe(201);
    return created.json;
  }

  /** The gateway's own count of open subscriptions: graphql-ws never confirms that one is live. */
  async function openSubscriptions(url: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split("\n").find((candidate) => candidate.startsWith("sshverify_subscriptions_open "));
    return Number(line?.split(" ")[1] ?? 0);
  }

  async function storedStatus(id: string): Promise<string | undefined> {
    const reader = await Database.connect(database.url);
    try {
      return (await reader.read((manager) => manager.findOneBy(Session, { id })))?.status;
    } finally {
      await reader.close();
    }
  }

  it(
    "lets an SSH verification in progress complete within the grace period, tells the subscriber, closes it with 1001 and exits 0",
    { timeout: 90_000 },
    async () => {
      const { gateway: running, sshPort } = await start(30);
      const key = keys.generate("ed25519");
      const session = await confirmingSession(running.url, key);
      const subscribers = new SubscriptionClients({ httpUrl: running.url });
      try {
        const connection = await subscribers.connect(apiKey);
        const changes = connection.subscribe(STATUS_CHANGES, { id: session.id });
        await waitFor("the subscription to be open", async () => (await openSubscriptions(running.url)) === 1);
        const ssh = startInteractiveSsh(sshPort, session.connection_identifier, key);
        await waitFor("the confirmation prompt", () => ssh.stdout().includes(PROMPT));

        const exited = stopProcess(running.child, "SIGTERM");
        await waitFor("the HTTP listener to stop accepting", () => refusesConnections(running.url));
        ssh.child.stdin.write("y");

        expect(await ssh.exited).toBe(0);
        expect(ssh.stdout()).toContain("Verified.");
        expect((await changes.take(1))[0].data).toEqual({ verifySessionStatusChanged: { previousStatus: "PENDING", status: "VERIFIED" } });
        expect(await connection.closed).toEqual({ code: 1001, reason: "Going away" });
        expect(await exited).toBe(0);
        expect(await storedStatus(session.id)).toBe("verified");
        expect(logLines(running.output()).map((line) => line.msg)).toEqual(expect.arrayContaining(["stopping", "stopped"]));
      } finally {
        await subscribers.closeAll();
      }
    },
  );

  it("ends an SSH verification still waiting when the grace period is over, closes subscribers with 1001, and exits 0", { timeout: 90_000 }, async () => {
    const { gateway: running, sshPort } = await start(1);
    const key = keys.generate("ed25519");
    const session = await confirmingSession(running.url, key);
    const subscribers = new SubscriptionClients({ httpUrl: running.url });
    try {
      const connection = await subscribers.connect(apiKey);
      connection.subscribe(STATUS_CHANGES, { id: session.id });
      await waitFor("the subscription to be open", async () => (await openSubscriptions(running.url)) === 1);
      const ssh = startInteractiveSsh(sshPort, session.connection_identifier, key);
      await waitFor("the confirmation prompt", () => ssh.stdout().includes(PROMPT));

      expect(await stopProcess(running.child, "SIGTERM")).toBe(0);
      expect(await ssh.exited).not.toBe(0);
      expect(ssh.stdout()).not.toContain("Verified.");
      expect(await connection.closed).toEqual({ code: 1001, reason: "Going away" });
      // The unconfirmed connection still counts as the session's one failed attempt, recorded before the exit.
      expect(await storedStatus(session.id)).toBe("failed");
      expect(logLines(running.output()).find((line) => line.msg === "SSH connection closed")).toBeDefined();
    } finally {
      await subscribers.closeAll();
    }
  });

  it("is not held up by an idle keep-alive HTTP connection", { timeout: 60_000 }, async () => {
    // A long grace: only an idle connection left open could make the process wait for it.
    const { gateway: running } = await start(300);
    const agent = new http.Agent({ keepAlive: true });
    try {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        http.get(`${running.url}/healthz`, { agent }, (response) => {
          response.resume();
          response.once("end", () => resolve(response.statusCode));
        }).once("error", reject);
      });
      expect(status).toBe(200);
      expect(await stopProcess(running.child, "SIGTERM")).toBe(0);
    } finally {
      agent.destroy();
    }
  });
});
