import { filter, map, pipe } from "@graphql-yoga/subscription";
import { DomainError } from "../../domain/errors.js";
import type { SessionKind } from "../../domain/session-rules.js";
import type { SessionEvent, StatusChangedEvent } from "../../services/pubsub.js";
import { reviveSessionDetail } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";

/** Events that crossed Redis carry their dates as strings; in-process they are still dates. */
const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

export function reviveStatusChange(change: StatusChangedEvent): StatusChangedEvent {
  return { ...change, session: reviveSessionDetail(change.session), changedAt: asDate(change.changedAt) };
}

export function reviveSessionEvent(event: SessionEvent): SessionEvent {
  return { ...event, triggerTime: asDate(event.triggerTime) };
}

/** A session id from the client is subscribed to only once the caller's project is known to own it. */
async function checkOwnership(context: GraphqlContext, id: string, kind: SessionKind | null): Promise<void> {
  const owned = await context.services.sessions.kindOf(context.caller, id);
  if (owned === null || (kind !== null && owned !== kind)) throw DomainError.notFound(kind ? `${kind} session` : "session");
}

/**
 * Status changes of one session (`id`) or of every session of the caller's project. The project always comes
 * from the API key, never from the client; the topic routes by id, and the filter keeps the kind.
 */
export async function statusChanges(context: GraphqlContext, kind: SessionKind, id: string | null): Promise<AsyncIterable<StatusChangedEvent>> {
  const { projectId } = context.caller;
  const { pubSub } = context.services;
  if (id === null) {
    return pipe(
      pubSub.subscribe("session-status:project", projectId),
      filter((change: StatusChangedEvent) => change.kind === kind),
      map(reviveStatusChange),
    );
  }
  await checkOwnership(context, id, kind);
  return pipe(
    pubSub.subscribe("session-status:session", id),
    filter((change: StatusChangedEvent) => change.kind === kind && change.projectId === projectId),
    map(reviveStatusChange),
  );
}

/** Every webhook-style event of one of the caller's sessions, of either kind. */
export async function sessionEvents(context: GraphqlContext, id: string): Promise<AsyncIterable<SessionEvent>> {
  await checkOwnership(context, id, null);
  const { projectId } = context.caller;
  return pipe(
    context.services.pubSub.subscribe("session-event:session", id),
    filter((event: SessionEvent) => event.projectId === projectId),
    map(reviveSessionEvent),
  );
}
