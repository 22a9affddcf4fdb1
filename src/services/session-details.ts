import type { EntityManager, EntityTarget } from "typeorm";
import { Connection, ConnectionKey, Session, SessionKey, Webhook } from "../db/entities/index.js";
import { hydrate, orderBy, selectRows } from "../db/plain-sql.js";
import {
  type ConnectionKeyView,
  type ConnectionView,
  type SessionDetail,
  type SessionKeyView,
  type WebhookView,
  toCollectedKeyView,
  toConnectionKeyView,
  toConnectionView,
  toSessionKeyView,
  toSessionView,
  toWebhookView,
} from "./session-views.js";

/** Items by key, each group in the order the items came. */
export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}

export interface SessionParts {
  keys: Map<string, SessionKeyView[]>;
  connections: Map<string, ConnectionView[]>;
  webhooks: Map<string, WebhookView[]>;
}

export type SessionPart = "keys" | "connections" | "webhooks";

export const ALL_SESSION_PARTS: ReadonlySet<SessionPart> = new Set(["keys", "connections", "webhooks"]);

/**
 * Everything a page of sessions shows (or only the parts asked for), in at most four statements whatever the
 * page size: configured keys, connections, connection keys, webhooks.
 */
export async function loadSessionParts(
  manager: EntityManager,
  sessions: ReadonlyArray<Pick<Session, "id" | "kind">>,
  parts: ReadonlySet<SessionPart> = ALL_SESSION_PARTS,
): Promise<SessionParts> {
  const ids = sessions.map((session) => session.id);
  if (ids.length === 0) return { keys: new Map(), connections: new Map(), webhooks: new Map() };
  const verifyIds = sessions.filter((session) => session.kind === "verify").map((session) => session.id);
  // Configured keys are a verify session's keys and also name the keys matched on its connections.
  const configuredIds = parts.has("keys") || parts.has("connections") ? verifyIds : [];
  // Connection keys are a collect session's keys and the keys proven on any connection.
  const provenIds = parts.has("connections") ? ids : parts.has("keys") ? ids.filter((id) => !verifyIds.includes(id)) : [];
  const [configured, connections, connectionKeys, webhooks] = await Promise.all([
    findBySessions(manager, SessionKey, configuredIds, { position: "ASC" }),
    parts.has("connections") ? findBySessions(manager, Connection, ids, { createdAt: "ASC", id: "ASC" }) : [],
    findBySessions(manager, ConnectionKey, provenIds, { createdAt: "ASC", id: "ASC" }),
    parts.has("webhooks") ? findBySessions(manager, Webhook, ids, { createdAt: "ASC", id: "ASC" }) : [],
  ]);
  const configuredById = new Map(configured.map((key) => [key.id, key]));
  const keysByConnection = groupBy(connectionKeys, (key) => key.connectionId);
  const collectSessionIds = new Set(sessions.filter((session) => session.kind === "collect").map((session) => session.id));

  const keys = new Map<string, SessionKeyView[]>();
  for (const [sessionId, group] of groupBy(configured, (key) => key.sessionId)) keys.set(sessionId, group.map(toSessionKeyView));
  for (const [sessionId, group] of groupBy(connectionKeys, (key) => key.sessionId)) {
    if (collectSessionIds.has(sessionId)) keys.set(sessionId, group.map(toCollectedKeyView));
  }
  const connectionViews = new Map<string, ConnectionView[]>();
  for (const [sessionId, group] of groupBy(connections, (connection) => connection.sessionId)) {
    connectionViews.set(
      sessionId,
      group.map((connection) => {
        const proven: ConnectionKeyView[] = (keysByConnection.get(connection.id) ?? []).map((key) =>
          toConnectionKeyView(key, configuredById),
        );
        return toConnectionView(connection, proven);
      }),
    );
  }
  const webhookViews = new Map<string, WebhookView[]>();
  for (const [sessionId, group] of groupBy(webhooks, (webhook) => webhook.sessionId)) {
    webhookViews.set(sessionId, group.map(toWebhookView));
  }
  return { keys, connections: connectionViews, webhooks: webhookViews };
}

/** Written SQL (see db/plain-sql.ts): status changes load a snapshot on the SSH verification path. */
async function findBySessions<T extends { sessionId: string }>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  sessionIds: string[],
  order: Partial<Record<keyof T & string, "ASC" | "DESC">>,
): Promise<T[]> {
  if (sessionIds.length === 0) return [];
  const table = manager.connection.getMetadata(entity).tableName;
  const rows = await selectRows(
    manager,
    `SELECT * FROM ${table} WHERE session_id IN (${sessionIds.map(() => "?").join(", ")}) ORDER BY ${orderBy(manager, entity, order)}`,
    sessionIds,
  );
  return rows.map((row) => hydrate(manager, entity, row));
}

export async function loadSessionDetails(manager: EntityManager, sessions: Session[], at = new Date()): Promise<SessionDetail[]> {
  const parts = await loadSessionParts(manager, sessions);
  return sessions.map((session) => detailOf(session, parts, at));
}

/** One session's detail; its webhooks, when the caller has already read them, are not read again. */
export async function loadSessionDetail(manager: EntityManager, session: Session, at = new Date(), webhooks?: Webhook[]): Promise<SessionDetail> {
  const parts = await loadSessionParts(manager, [session], webhooks === undefined ? ALL_SESSION_PARTS : SESSION_PARTS_BUT_WEBHOOKS);
  if (webhooks !== undefined) parts.webhooks.set(session.id, webhooks.map(toWebhookView));
  return detailOf(session, parts, at);
}

const SESSION_PARTS_BUT_WEBHOOKS: ReadonlySet<SessionPart> = new Set(["keys", "connections"]);

function detailOf(session: Session, parts: SessionParts, at: Date): SessionDetail {
  return {
    ...toSessionView(session, at),
    keys: parts.keys.get(session.id) ?? [],
    connections: parts.connections.get(session.id) ?? [],
    webhooks: parts.webhooks.get(session.id) ?? [],
  };
}
