import { setMaxListeners } from "node:events";
import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub, type PubSub } from "@graphql-yoga/subscription";
import { Redis } from "ioredis";
import type { SessionKind, SessionStatus } from "../domain/session-rules.js";
import type { Logger } from "../logger.js";
import { settleWithin } from "../timeouts.js";
import type { SessionDetail } from "./session-views.js";

/** A status change, published as a snapshot so no subscriber needs to read the database. */
export interface StatusChangedEvent {
  kind: SessionKind;
  projectId: string;
  session: SessionDetail;
  previousStatus: SessionStatus;
  status: SessionStatus;
  changedAt: Date;
}

/** One webhook-style event (the same names and payloads webhooks carry). */
export interface SessionEvent {
  kind: SessionKind;
  projectId: string;
  sessionId: string;
  event: string;
  triggerTime: Date;
  payload: Record<string, unknown>;
}

/**
 * The typed topic map: a publish and its subscription cannot disagree. Topics are routed by id so an
 * event for one session touches only that session's subscribers and its project's.
 */
export type Topics = {
  "session-status:session": [sessionId: string, event: StatusChangedEvent];
  "session-status:project": [projectId: string, event: StatusChangedEvent];
  "session-event:session": [sessionId: string, event: SessionEvent];
  /** Every instance closes the WebSocket connections signed in with this key. */
  "api-key:revoked": [event: { apiKeyId: string }];
};

export type GatewayPubSub = PubSub<Topics> & {
  /** Whether the shared stream (Redis) answers; always true in-process. For /readyz. */
  isReachable(): Promise<boolean>;
  close(): Promise<void>;
};

/** A readiness probe must answer even while Redis is gone and ioredis keeps reconnecting. */
const PING_TIMEOUT_MS = 1_000;
/** How long a closing client may take to QUIT before it is cut off. */
const QUIT_TIMEOUT_MS = 1_000;

/** Logs the start and the end of an outage, not each of ioredis's reconnect attempts. */
function watchConnection(client: Redis, role: string, logger: Logger | undefined): void {
  let down = false;
  client.on("error", (error: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ err: error, redis: role }, "Redis connection lost; reconnecting");
  });
  client.on("ready", () => {
    if (!down) return;
    down = false;
    logger?.info({ redis: role }, "Redis connection restored");
  });
}

/**
 * The event target sends these commands without handling their promises: a failure (Redis gone, or the
 * client closed while one was under way) is logged here instead of becoming an unhandled rejection.
 */
function catchFireAndForget(client: Redis, commands: Array<"publish" | "subscribe" | "unsubscribe">, logger?: Logger) {
  for (const command of commands) {
    const original = client[command].bind(client) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(client, {
      [command]: (...args: unknown[]) => {
        const sent = original(...args);
        sent.catch((error: unknown) => logger?.warn({ err: error, command }, "Redis pub/sub command failed"));
        return sent;
      },
    });
  }
}

/** In-process by default; Redis when `redisUrl` is set, so several instances share one stream of events. */
export function createGatewayPubSub(redisUrl: string | null, logger?: Logger): GatewayPubSub {
  if (!redisUrl) {
    // Each group of equal subscriptions listens once per topic: many listeners on a busy project's topic are no leak.
    const eventTarget = new EventTarget();
    setMaxListeners(0, eventTarget);
    return Object.assign(createPubSub<Topics>({ eventTarget }), { isReachable: async () => true, close: async () => {} });
  }
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  // The event target fires SUBSCRIBE and UNSUBSCRIBE without awaiting them: while Redis is away they wait for
  // the reconnect instead of failing as unhandled rejections.
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: null });
  watchConnection(publishClient, "publish", logger);
  watchConnection(subscribeClient, "subscribe", logger);
  catchFireAndForget(publishClient, ["publish"], logger);
  catchFireAndForget(subscribeClient, ["subscribe", "unsubscribe"], logger);
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient });
  const pubSub = createPubSub<Topics>({ eventTarget });
  return Object.assign(pubSub, {
    isReachable: async () => {
      // The subscribe client queues commands until Redis is back, so its state is read rather than pinged.
      if (subscribeClient.status !== "ready") return false;
      const pinged = publishClient.ping().then(
        () => true,
        () => false,
      );
      return settleWithin(pinged, PING_TIMEOUT_MS, false);
    },
    close: async () => {
      await Promise.all([closeRedis(publishClient), closeRedis(subscribeClient)]);
    },
  });
}

/**
 * QUIT lets commands already sent get their replies (a bare disconnect rejects them, and the event target
 * leaves those rejections unhandled); a client that cannot quit within a second (Redis is down) is cut off.
 */
export async function closeRedis(client: Redis): Promise<void> {
  try {
    if (client.status !== "ready" || (await settleWithin(client.quit(), QUIT_TIMEOUT_MS, "late")) === "late") client.disconnect();
  } catch {
    client.disconnect();
  }
}
