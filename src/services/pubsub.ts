import { createRedisEventTarget } from "@graphql-yoga/redis-event-target";
import { createPubSub, type PubSub } from "@graphql-yoga/subscription";
import { Redis } from "ioredis";
import type { SessionKind, SessionStatus } from "../domain/session-rules.js";
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
};

export type GatewayPubSub = PubSub<Topics> & { close(): Promise<void> };

/** In-process by default; Redis when `redisUrl` is set, so several instances share one stream of events. */
export function createGatewayPubSub(redisUrl: string | null): GatewayPubSub {
  if (!redisUrl) return Object.assign(createPubSub<Topics>(), { close: async () => {} });
  const publishClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const subscribeClient = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const eventTarget = createRedisEventTarget<never>({ publishClient, subscribeClient });
  const pubSub = createPubSub<Topics>({ eventTarget });
  return Object.assign(pubSub, {
    close: async () => {
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  });
}
