import { fork, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import path from "node:path";
import type { Outcome, Scenario } from "./bench-messages.js";

/**
 * Status change -> subscriber latency over graphql-ws (`npm run bench:subscriptions`). Each scenario runs in a
 * process of its own (scenario-process.ts: the gateway on a temp SQLite file) with its subscribers in another
 * (subscriber-process.ts). Latency runs from the publish right after the commit to a subscriber's arrival time.
 * BENCH_EVENTS (200), BENCH_PER_SESSION_SUBSCRIBERS (10000), BENCH_ONLY=<part of a scenario name>,
 * BENCH_DATABASE_URL=mysql://... (an empty scratch database), BENCH_REDIS_URL=redis://... (publish through Redis),
 * BENCH_PROFILE=<directory> (a CPU profile of each gateway process).
 */

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200);
const PER_SESSION_SUBSCRIBERS = Number(process.env.BENCH_PER_SESSION_SUBSCRIBERS ?? 10_000);
/** One subscriber per event here, so more events for a stable p99. */
const PER_SESSION_EVENTS = EVENTS * 5;

/** Below this many subscribers the growth of RSS is lost in its noise. */
const RSS_MIN_SUBSCRIBERS = 1_000;

/** Open file descriptors allowed to each process: every socket takes one on either side. */
function descriptorLimit(): number {
  const limit = Number(spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout.trim());
  return Number.isFinite(limit) ? limit : 1024;
}

function scenarios(descriptors: number): Scenario[] {
  const projectWide = (subscribers: number, events: number, distinctDocuments = false): Scenario => ({
    name: `${subscribers.toLocaleString("en")} project-wide${distinctDocuments ? ", each its own document" : ""}`,
    subscribers,
    sockets: subscribers,
    perSession: false,
    distinctDocuments,
    events,
    warmupEvents: 20,
    target: "gateway",
  });
  return [
    projectWide(1, EVENTS),
    projectWide(100, EVENTS),
    projectWide(1_000, EVENTS),
    // What a plain graphql-ws server does: one execution per subscriber per event.
    projectWide(1_000, Math.ceil(EVENTS / 4), true),
    // No GraphQL at all: one prepared message written to each of 1,000 sockets.
    { ...projectWide(1_000, EVENTS), name: "1,000 sockets, bare ws (the floor)", target: "bare-ws" },
    {
      name: `${PER_SESSION_SUBSCRIBERS.toLocaleString("en")} on a session each`,
      subscribers: PER_SESSION_SUBSCRIBERS,
      // Beyond `ulimit -n`, subscriptions share sockets (graphql-ws multiplexes them).
      sockets: Math.max(1, Math.min(PER_SESSION_SUBSCRIBERS, descriptors - 512)),
      perSession: true,
      distinctDocuments: false,
      events: Math.min(PER_SESSION_EVENTS, PER_SESSION_SUBSCRIBERS - 50),
      warmupEvents: 50,
      target: "gateway",
    },
  ];
}

function runInOwnProcess(scenario: Scenario): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const profile = process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const child = fork(path.join(import.meta.dirname, "scenario-process.js"), { stdio: "inherit", execArgv: ["--expose-gc", ...profile] });
    child.once("message", (outcome: Outcome) => resolve(outcome));
    child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`${scenario.name}: exited with ${code}`))));
    child.send(scenario);
  });
}

const percentile = (sorted: number[], share: number) => sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? Number.NaN;

async function main(): Promise<void> {
  const descriptors = descriptorLimit();
  const only = process.env.BENCH_ONLY;
  const selected = scenarios(descriptors).filter((scenario) => !only || scenario.name.includes(only));
  process.stdout.write(
    `Status change -> subscriber latency over graphql-ws: ${process.env.BENCH_DATABASE_URL ? "MySQL" : "SQLite"}, ` +
      `pub/sub ${process.env.BENCH_REDIS_URL ? "Redis" : "in-process"}, subscribers in a separate process, node ${process.version}, ` +
      `NODE_ENV=${process.env.NODE_ENV ?? "unset"}, ulimit -n ${descriptors}, load average ${loadavg()[0].toFixed(1)}\n` +
      "latency: publish (right after the commit) -> arrival; commit: the service call that commits and publishes\n\n",
  );
  const columns = ["sockets", "groups", "events", "p50 ms", "p99 ms", "max ms", "commit ms", "RSS/sub KiB"];
  process.stdout.write(`${"subscribers".padEnd(40)}${columns.map((cell) => cell.padStart(12)).join("")}\n`);
  for (const scenario of selected) {
    const outcome = await runInOwnProcess(scenario);
    const sorted = [...outcome.latencies].sort((a, b) => a - b);
    const commits = [...outcome.commitCalls].sort((a, b) => a - b);
    const gateway = scenario.target === "gateway";
    const cells = [
      scenario.sockets.toLocaleString("en"),
      gateway ? outcome.groups.toLocaleString("en") : "-",
      String(scenario.events),
      percentile(sorted, 0.5).toFixed(2),
      percentile(sorted, 0.99).toFixed(2),
      (sorted.at(-1) ?? Number.NaN).toFixed(2),
      gateway ? percentile(commits, 0.5).toFixed(2) : "-",
      gateway && scenario.subscribers >= RSS_MIN_SUBSCRIBERS ? (outcome.rssPerSubscriber / 1024).toFixed(1) : "-",
    ];
    process.stdout.write(`${scenario.name.padEnd(40)}${cells.map((cell) => cell.padStart(12)).join("")}\n`);
  }
}

await main();
