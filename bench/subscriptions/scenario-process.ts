import { randomUUID } from "node:crypto";
import type { Gateway } from "../../src/gateway.js";
import type { GatewayPubSub } from "../../src/services/pubsub.js";
import { ed25519KeyLine, startBenchGateway } from "../support/bench-gateway.js";
import type { Outcome, Scenario, SubscriptionRequest } from "./bench-messages.js";
import { startSocketFloor } from "./socket-floor.js";
import { measure, now, type Target } from "./subscribers.js";

/**
 * One scenario in a process of its own, so its RSS is its own: a whole gateway on a temp SQLite file
 * (BENCH_DATABASE_URL, BENCH_REDIS_URL) with sessions made through the service layer, each event one
 * `complete` of a multi-connection verify session; or the bare ws floor (socket-floor.ts).
 */

const SELECTION = `previousStatus status changedAt
  session { id status connectionIdentifier sshCommand createdAt keys { publicKeySha256 verifiedAt } connections { ipAddress } }`;
const PROJECT_WIDE = `subscription { verifySessionStatusChanged { ${SELECTION} } }`;
const PER_SESSION = `subscription($id: ID!) { verifySessionStatusChanged(id: $id) { ${SELECTION} } }`;


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

function subscriptionRequests(scenario: Scenario, sessionIds: string[]): SubscriptionRequest[] {
  if (scenario.perSession) return sessionIds.map((id) => ({ query: PER_SESSION, variables: { id } }));
  return Array.from({ length: scenario.subscribers }, (_, index) => ({
    query: scenario.distinctDocuments ? PROJECT_WIDE.replace("subscription", `subscription S${index}`) : PROJECT_WIDE,
  }));
}

async function openSubscriptions(gateway: Gateway): Promise<number> {
  return (await gateway.metrics.registry.getSingleMetric("sshverify_subscriptions_open")?.get())?.values[0]?.value ?? 0;
}

async function onGateway(scenario: Scenario): Promise<Outcome> {
  const bench = await startBenchGateway({
    ...(process.env.BENCH_REDIS_URL ? { REDIS_URL: process.env.BENCH_REDIS_URL } : {}),
    LOG_LEVEL: "warn",
    EXPIRY_SWEEP_INTERVAL_SECONDS: "3600",
  });
  const { gateway, apiKey, caller } = bench;
  try {
    const { sessions } = gateway.services;
    const keys = [{ publicKey: ed25519KeyLine() }];
    const ids: string[] = [];
    const needed = scenario.perSession ? scenario.subscribers : scenario.warmupEvents + scenario.events;
    for (let index = 0; index < needed; index++) ids.push((await sessions.create(caller, "verify", { keys, multiConnection: true })).id);
    const publishedAt = notePublishTimes(gateway.services.pubSub);
    const target: Target = {
      url: `${gateway.httpUrl.replace(/^http/, "ws")}/graphql`,
      apiKey,
      live: () => openSubscriptions(gateway),
      groups: () => gateway.subscriptions.groupCount,
      trigger: async (id) => {
        const started = now();
        await sessions.complete(caller, "verify", id);
        return { publishedAt: publishedAt.get(id) ?? started, callMs: now() - started };
      },
    };
    return await measure(scenario, target, ids, subscriptionRequests(scenario, ids));
  } finally {
    await bench.stop();
  }
}

async function onSocketFloor(scenario: Scenario): Promise<Outcome> {
  const floor = await startSocketFloor();
  try {
    const ids = Array.from({ length: scenario.warmupEvents + scenario.events }, () => randomUUID());
    return await measure(scenario, floor, ids, subscriptionRequests(scenario, ids));
  } finally {
    await floor.stop();
  }
}

process.once("message", (scenario: Scenario) => {
  (scenario.target === "bare-ws" ? onSocketFloor(scenario) : onGateway(scenario)).then(
    (outcome) => process.send?.(outcome, () => process.exit(0)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
});
