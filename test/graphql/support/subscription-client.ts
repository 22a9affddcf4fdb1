import { createClient, type Client, type FormattedExecutionResult } from "graphql-ws";
import { Redis } from "ioredis";
import { WebSocket } from "ws";
import type { Gateway } from "../../../src/gateway.js";
import { waitFor } from "../../support/wait-for.js";

export interface CloseInfo {
  code: number;
  reason: string;
}

/** One subscription's results as they arrive; `take(n)` waits for the first n. */
export class SubscriptionStream<T = any> {
  readonly results: Array<FormattedExecutionResult<T, unknown>> = [];
  /** The error message the subscription ended with (a GraphQL error list or the socket's close). */
  failure: unknown = null;
  completed = false;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly unsubscribe: () => void) {}

  receive(result: FormattedExecutionResult<T, unknown>): void {
    this.results.push(result);
    this.wake();
  }

  end(failure: unknown = null): void {
    this.failure = failure;
    this.completed = true;
    this.wake();
  }

  async take(count: number, timeoutMs = 15_000): Promise<Array<FormattedExecutionResult<T, unknown>>> {
    await this.until(() => this.results.length >= count, `${count} result(s)`, timeoutMs);
    return this.results.slice(0, count);
  }

  /** Resolves when the subscription has ended, with its failure (null when it completed). */
  async ended(timeoutMs = 15_000): Promise<unknown> {
    await this.until(() => this.completed, "the subscription to end", timeoutMs);
    return this.failure;
  }

  private async until(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    if (done()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.results)}`)), timeoutMs);
        const check = () => (done() ? resolve() : this.waiters.push(check));
        check();
      });
    } finally {
      clearTimeout(timer);
    }
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** A WebSocket that names another host in its upgrade request, as a client reaching the API under that name does. */
function webSocketWithHost(host: string): typeof WebSocket {
  return class extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers: { host } });
    }
  } as typeof WebSocket;
}

/** One graphql-ws connection to a gateway, as an application would open it (no retries, connected at once). */
export class SubscriptionConnection {
  readonly client: Client;
  readonly connected: Promise<void>;
  readonly closed: Promise<CloseInfo>;

  constructor(url: string, connectionParams: Record<string, unknown> | undefined, host?: string) {
    let onConnected: () => void = () => {};
    let onClosed: (info: CloseInfo) => void = () => {};
    this.connected = new Promise((resolve) => (onConnected = resolve));
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.client = createClient({
      url,
      webSocketImpl: host ? webSocketWithHost(host) : WebSocket,
      connectionParams,
      lazy: false,
      retryAttempts: 0,
      onNonLazyError: () => {},
      on: {
        connected: () => onConnected(),
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string | Buffer };
          onClosed({ code, reason: String(reason) });
        },
      },
    });
  }

  subscribe<T = any>(query: string, variables: Record<string, unknown> = {}): SubscriptionStream<T> {
    let stream: SubscriptionStream<T> | null = null;
    const unsubscribe = this.client.subscribe<T>(
      { query, variables },
      {
        next: (result) => stream?.receive(result),
        error: (error) => stream?.end(error),
        complete: () => stream?.end(),
      },
    );
    stream = new SubscriptionStream<T>(unsubscribe);
    return stream;
  }

  dispose(): Promise<void> {
    return Promise.resolve(this.client.dispose());
  }
}

/** Opens connections to one gateway and closes them all at the end of a test. */
export class SubscriptionClients {
  private readonly open: SubscriptionConnection[] = [];

  constructor(private readonly gateway: Pick<Gateway, "httpUrl">) {}

  get url(): string {
    return `${this.gateway.httpUrl.replace(/^http/, "ws")}/graphql`;
  }

  /** A connection signed in with `apiKey` (reaching the API under `host`); resolves once the gateway acknowledged it. */
  async connect(apiKey: string, host?: string): Promise<SubscriptionConnection> {
    const connection = this.connectRaw({ "x-api-key": apiKey }, host);
    await Promise.race([
      connection.connected,
      connection.closed.then((info) => Promise.reject(new Error(`closed ${info.code} ${info.reason}`))),
    ]);
    return connection;
  }

  /** A connection with whatever connectionParams, acknowledged or not. */
  connectRaw(connectionParams: Record<string, unknown> | undefined, host?: string): SubscriptionConnection {
    const connection = new SubscriptionConnection(this.url, connectionParams, host);
    this.open.push(connection);
    return connection;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((connection) => connection.dispose()));
  }
}

/** The `sshverify_subscriptions_open` gauge of an in-process gateway. */
export async function openSubscriptions(gateway: Pick<Gateway, "metrics">): Promise<number> {
  const gauge = await gateway.metrics.registry.getSingleMetric("sshverify_subscriptions_open")?.get();
  return gauge?.values[0]?.value ?? 0;
}

/**
 * graphql-ws never confirms that a subscription is live (pitfall 6), so tests wait for the gateway's own count;
 * with Redis, also for the instance's SUBSCRIBE on each pub/sub channel (`<topic>:<id>`) to have taken effect.
 */
export async function waitUntilListening(gateway: Pick<Gateway, "metrics" | "config">, open: number, channels: string[] = []): Promise<void> {
  await waitFor(`${open} open subscriptions`, async () => (await openSubscriptions(gateway)) === open);
  if (!gateway.config.redisUrl || channels.length === 0) return;
  const redis = new Redis(gateway.config.redisUrl);
  try {
    await waitFor(`Redis subscribers on ${channels.join(", ")}`, async () => {
      const counts = (await redis.pubsub("NUMSUB", ...channels)) as Array<string | number>;
      return counts.filter((_, index) => index % 2 === 1).every((count) => Number(count) > 0);
    });
  } finally {
    redis.disconnect();
  }
}
