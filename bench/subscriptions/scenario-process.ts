import "reflect-metadata";
import { type ChildProcess, fork } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { loadConfig } from "../../src/config.js";
import { type Gateway, startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import type { GatewayPubSub } from "../../src/services/pubsub.js";
import type { DriverMessage, Outcome, Scenario, SubscriberMessage, SubscriptionRequest } from "./bench-messages.js";

/**
 * One scenario in a process of its own, so its RSS is its own: a whole gateway on a temp SQLite file
 * (BENCH_DATABASE_URL, BENCH_REDIS_URL), sessions made through the service layer, the subscribers in a child
 * process, then one status change at a time (`complete` of a multi-connection verify session).
 */

const SELECTION = `previousStatus status changedAt
  session { id status connectionIdentifier sshCommand createdAt keys { publicKeySha256 verifiedAt } connections { ipAddress } }`;
const PROJECT_WIDE = `subscription { verifySessionStatusChanged { ${SELECTION} } }`;
const PER_SESSION = `subscription($id: ID!) { verifySessionStatusChanged(id: $id) { ${SELECTION} } }`;

const now = () => performance.timeOrigin + performance.now();
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

type Reply<T extends SubscriberMessage["type"]> = Extract<SubscriberMessage, { type: T }>;

/** The child process with the subscribers; each request is answered by the next message it sends. */
class SubscriberProcess {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ answer(message: SubscriberMessage): void; fail(error: Error): void }> = [];

  constructor() {
    this.child = fork(path.join(import.meta.dirname, "subscriber-process.js"), { stdio: "inherit" });
    this.child.on("message", (message: SubscriberMessage) => this.waiting.shift()?.answer(message));
    this.child.once("exit", (code) => {
      for (const waiter of this.waiting.splice(0)) waiter.fail(new Error(`the subscriber process exited with ${code}`));
    });
  }

  request<T extends SubscriberMessage["type"]>(message: DriverMessage, type: T): Promise<Reply<T>> {
    return new Promise((resolve, reject) => {
      const answer = (reply: SubscriberMessage) => (reply.type === type ? resolve(reply as Reply<T>) : reject(new Error(`got ${reply.type}`)));
      this.waiting.push({ answer, fail: reject });
      this.child.send(message);
    });
  }

  stop(): void {
    this.child.removeAllListeners("exit");
    this.child.kill();
  }
}

function ed25519KeyLine(): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  const field = (data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")}`;
}

/** Instrumentation: when each session's status change was published, i.e. right after its commit. */
function notePublishTimes(pubSub: GatewayPubSub): Map<string, number> {
  const publishedAt = new Map<string, number>();
  const publish = pubSub.publish.bind(pubSub) as (topic: string, ...args: unknown[]) => void;
  const timed = (topic: string, ...args: unknown[]) => {
    if (topic === "session-status:session") publishedAt.set(String(args[0]), now());
    publish(topic, ...args);
  };
  pubSub.publish = timed as GatewayPubSub["publish"];
  return publishedAt;
}

async function openSubscriptions(gateway: Gateway): Promise<number> {
  return (await gateway.metrics.registry.getSingleMetric("sshverify_subscriptions_open")?.get())?.values[0]?.value ?? 0;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 300_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (await check()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function runScenario(scenario: Scenario): Promise<Outcome> {
  const directory = mkdtempSync(path.join(tmpdir(), "sshverify-bench-"));
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SSH_PORT: "0",
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(directory, "bench.db")}`,
    ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
    BOOTSTRAP_API_KEY: apiKey,
    LOG_LEVEL: "warn",
    EXPIRY_SWEEP_INTERVAL_SECONDS: "3600",
  });
  const gateway = await startGateway(config, createLogger(config.logLevel));
  const subscribers = new SubscriberProcess();
  try {
    const caller = await gateway.services.apiKeys.authenticate(apiKey);
    const { sessions } = gateway.services;
    const keys = [{ publicKey: ed25519KeyLine() }];
    const ids: string[] = [];
    const needed = scenario.perSession ? scenario.subscribers : scenario.warmupEvents + scenario.events;
    for (let index = 0; index < needed; index++) ids.push((await sessions.create(caller, "verify", { keys, multiConnection: true })).id);
    const requests: SubscriptionRequest[] = scenario.perSession
      ? ids.map((id) => ({ query: PER_SESSION, variables: { id } }))
      : Array.from({ length: scenario.subscribers }, (_, index) => ({
          query: scenario.distinctDocuments ? PROJECT_WIDE.replace("subscription", `subscription S${index}`) : PROJECT_WIDE,
        }));
    const publishedAt = notePublishTimes(gateway.services.pubSub);
    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const url = `${gateway.httpUrl.replace(/^http/, "ws")}/graphql`;
    await subscribers.request({ type: "open", url, apiKey, sockets: scenario.sockets, subscriptions: requests }, "opened");
    // graphql-ws never confirms a subscription (pitfall 6): the gateway's own count says when all are live.
    await until("every subscription to be live", async () => (await openSubscriptions(gateway)) === scenario.subscribers);
    collectGarbage();
    const rssPerSubscriber = (process.memoryUsage().rss - rssBefore) / scenario.subscribers;

    const latencies: number[] = [];
    const commitCalls: number[] = [];
    for (let event = 0; event < scenario.warmupEvents + scenario.events; event++) {
      const id = ids[event];
      const received = subscribers.request({ type: "expect", count: scenario.perSession ? 1 : scenario.subscribers }, "received");
      const started = now();
      await sessions.complete(caller, "verify", id);
      const committed = now();
      const { arrivals, errors } = await received;
      if (errors > 0 || arrivals.some(([sessionId]) => sessionId !== id)) throw new Error(`${scenario.name}: wrong results for ${id}`);
      // Warm-up events also prove that every subscriber receives (pitfall 6).
      if (event < scenario.warmupEvents) continue;
      commitCalls.push(committed - started);
      const published = publishedAt.get(id) ?? started;
      for (const [, at] of arrivals) latencies.push(at - published);
    }
    return { latencies, commitCalls, groups: gateway.subscriptions.groupCount, rssPerSubscriber };
  } finally {
    subscribers.stop();
    await gateway.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

process.once("message", (scenario: Scenario) => {
  runScenario(scenario).then(
    (outcome) => process.send?.(outcome, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
