import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createTestDatabase } from "../support/databases.js";
import { sendRequest } from "../support/gateway.js";
import { freePort, startServiceProcess, stopProcess } from "../support/processes.js";
import { waitFor } from "../support/wait-for.js";
import { KeyRing, runSsh } from "../ssh/support/openssh.js";
import { SubscriptionClients } from "./support/subscription-client.js";

const databaseUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;
const skipReason = !databaseUrl || !redisUrl ? "TEST_DATABASE_URL and TEST_REDIS_URL must both be set (MariaDB and Redis)" : null;
if (skipReason) console.warn(`skipping subscriptions across two gateway processes: ${skipReason}`);

const VERIFY_CHANGES = `subscription($id: ID) {
  verifySessionStatusChanged(id: $id) { previousStatus status changedAt session { id status keys { publicKeySha256 verifiedAt } } }
}`;

/** `node dist/src/main.js` on free ports, on the shared database and Redis. */
async function startGatewayProcess(database: string, redis: string, apiKey: string) {
  const sshPort = await freePort();
  const gateway = await startServiceProcess({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    SSH_PORT: String(sshPort),
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: database,
    REDIS_URL: redis,
    BOOTSTRAP_API_KEY: apiKey,
  });
  return { ...gateway, sshPort };
}

/** The `sshverify_subscriptions_open` gauge from a process's /metrics. */
async function openSubscriptions(url: string): Promise<number> {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^sshverify_subscriptions_open (\d+)$/m.exec(metrics)?.[1] ?? 0);
}

describe.skipIf(skipReason !== null)("subscriptions across two gateway processes on one MariaDB and one Redis", () => {
  it("delivers a status change made over SSH through one instance to subscribers on the other", { timeout: 120_000 }, async () => {
    const database = await createTestDatabase("mariadb");
    const apiKey = `test_${randomBytes(16).toString("hex")}`;
    const keys = new KeyRing();
    const children: ChildProcess[] = [];
    let clients: SubscriptionClients | null = null;
    const redis = new Redis(redisUrl as string);
    try {
      // One after the other: the first runs the migrations, the second finds them done.
      const sshSide = await startGatewayProcess(database.url, redisUrl as string, apiKey);
      children.push(sshSide.child);
      const subscriberSide = await startGatewayProcess(database.url, redisUrl as string, apiKey);
      children.push(subscriberSide.child);
      const key = keys.generate("ed25519");
      const created = await sendRequest(sshSide.url, apiKey, "POST", "/graphql", {
        body: {
          query: "mutation($input: CreateVerifySessionInput!) { createVerifySession(input: $input) { id connectionIdentifier } }",
          variables: { input: { keys: [{ publicKey: key.publicKey }] } },
        },
      });
      const session = created.json.data.createVerifySession;
      const projectId = (await sendRequest(subscriberSide.url, apiKey, "GET", "/api/v1/auth/info/")).json.project_id;

      clients = new SubscriptionClients({ httpUrl: subscriberSide.url });
      const connection = await clients.connect(apiKey);
      const projectWide = connection.subscribe(VERIFY_CHANGES);
      const bySession = connection.subscribe(VERIFY_CHANGES, { id: session.id });
      await waitFor("both subscriptions to be open", async () => (await openSubscriptions(subscriberSide.url)) === 2);
      const channels = [`session-status:project:${projectId}`, `session-status:session:${session.id}`];
      await waitFor("the subscriber instance to listen on Redis", async () => {
        const counts = (await redis.pubsub("NUMSUB", ...channels)) as Array<string | number>;
        return counts.filter((_, index) => index % 2 === 1).every((count) => Number(count) > 0);
      });

      const login = await runSsh({ port: sshSide.sshPort, user: session.connectionIdentifier, keys: [key] });

      expect(login.stdout).toBe("Verified.\n");
      for (const stream of [projectWide, bySession]) {
        const [result] = await stream.take(1);
        expect(result.errors).toBeUndefined();
        expect(result.data?.verifySessionStatusChanged).toEqual({
          previousStatus: "PENDING",
          status: "VERIFIED",
          changedAt: expect.any(String),
          session: { id: session.id, status: "VERIFIED", keys: [{ publicKeySha256: key.sha256, verifiedAt: expect.any(String) }] },
        });
      }
    } finally {
      await clients?.closeAll();
      for (const child of children) expect(await stopProcess(child)).toBe(0);
      redis.disconnect();
      keys.remove();
      await database.drop();
    }
  });
});
