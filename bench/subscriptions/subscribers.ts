import { type ChildProcess, fork } from "node:child_process";
import path from "node:path";
import type { DriverMessage, Outcome, Scenario, SubscriberMessage, SubscriptionRequest } from "./bench-messages.js";

/** CLOCK_MONOTONIC in ms: the same clock in every process of the machine (timeOrigin is not: it is read at start). */
export const now = () => Number(process.hrtime.bigint()) / 1e6;

const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

type Reply<T extends SubscriberMessage["type"]> = Extract<SubscriberMessage, { type: T }>;

/** The child process with the subscribers; each request is answered by the next message it sends. */
export class SubscriberProcess {
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

/** What the subscribers connect to: the gateway, or the bare ws floor. */
export interface Target {
  url: string;
  apiKey: string;
  /** Subscriptions the target counts as live. */
  live(): Promise<number>;
  /** Changes one session; `publishedAt` is when the change was published (right after its commit). */
  trigger(sessionId: string): Promise<{ publishedAt: number; callMs: number }>;
  /** Distinct executions per event. */
  groups(): number;
}

/** An event whose results never all arrive fails the run instead of hanging it. */
async function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 300_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
    if (await check()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Opens the subscriptions, waits until the target counts all of them live (graphql-ws never confirms one,
 * pitfall 6), warms up (which also proves every subscriber receives), then triggers one change at a time.
 */
export async function measure(scenario: Scenario, target: Target, sessionIds: string[], requests: SubscriptionRequest[]): Promise<Outcome> {
  const subscribers = new SubscriberProcess();
  try {
    collectGarbage();
    const rssBefore = process.memoryUsage().rss;
    const { url, apiKey } = target;
    await subscribers.request({ type: "open", url, apiKey, sockets: scenario.sockets, subscriptions: requests }, "opened");
    await until("every subscription to be live", async () => (await target.live()) === scenario.subscribers);
    collectGarbage();
    const rssPerSubscriber = (process.memoryUsage().rss - rssBefore) / scenario.subscribers;
    const latencies: number[] = [];
    const commitCalls: number[] = [];
    for (let event = 0; event < scenario.warmupEvents + scenario.events; event++) {
      const id = sessionIds[event];
      const received = subscribers.request({ type: "expect", count: scenario.perSession ? 1 : scenario.subscribers }, "received");
      const { publishedAt, callMs } = await target.trigger(id);
      const { arrivals, errors } = await withTimeout(received, `${scenario.name}: the results of ${id}`);
      if (errors > 0 || arrivals.some(([sessionId]) => sessionId !== id)) throw new Error(`${scenario.name}: wrong results for ${id}`);
      if (event < scenario.warmupEvents) continue;
      commitCalls.push(callMs);
      for (const [, at] of arrivals) latencies.push(at - publishedAt);
    }
    return { latencies, commitCalls, groups: target.groups(), rssPerSubscriber };
  } finally {
    subscribers.stop();
  }
}
