import type { Connection, ConnectionKey, Session, SessionKey, Webhook } from "../db/entities/index.js";
import { effectiveStatus, type SessionKind, type SessionStatus } from "../domain/session-rules.js";

/** Read models the adapters render: plain data, safe to publish as snapshots and to send over Redis. */
export interface PublicKeyView {
  publicKeyAlgorithm: string;
  publicKeySsh: string;
  publicKeySha256: string;
  publicKeyMd5: string;
  publicKeyPem: string;
}

export interface SessionKeyView extends PublicKeyView {
  id: string;
  name: string | null;
  externalId: string | null;
  verifiedAt: Date | null;
  createdAt: Date;
}

export interface ConnectionKeyView extends PublicKeyView {
  id: string;
  /** The configured key this proof matched (verify sessions); null for collected keys. */
  sessionKeyId: string | null;
  name: string | null;
  externalId: string | null;
  verifiedAt: Date;
  createdAt: Date;
}

export interface ConnectionView {
  id: string;
  ipAddress: string | null;
  clientVersion: string | null;
  createdAt: Date;
  keys: ConnectionKeyView[];
}

export interface WebhookView {
  id: string;
  /** The session whose events it receives. */
  sessionId: string;
  url: string;
  method: string;
  headers: Record<string, string[]>;
  events: string[];
  retries: number;
  initialBackoff: number;
  backoffMultiplier: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface SessionView {
  id: string;
  kind: SessionKind;
  projectId: string;
  connectionIdentifier: string;
  status: SessionStatus;
  externalId: string | null;
  matchAllKeys: boolean;
  maxAttempts: number;
  failedAttempts: number;
  multiConnection: boolean;
  multiKey: boolean;
  mustConfirm: boolean;
  sshBanner: string | null;
  sshMessage: string | null;
  expiredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A session with everything the detail shows. `keys` are the configured keys of a verify session,
 * or every key collected so far by a collect session.
 */
export interface SessionDetail extends SessionView {
  keys: SessionKeyView[];
  connections: ConnectionView[];
  webhooks: WebhookView[];
}

export function toSessionView(session: Session, at: Date = new Date()): SessionView {
  return {
    id: session.id,
    kind: session.kind,
    projectId: session.projectId,
    connectionIdentifier: session.connectionIdentifier,
    status: effectiveStatus(session, at),
    externalId: session.externalId,
    matchAllKeys: session.matchAllKeys,
    maxAttempts: session.maxAttempts,
    failedAttempts: session.failedAttempts,
    multiConnection: session.multiConnection,
    multiKey: session.multiKey,
    mustConfirm: session.mustConfirm,
    sshBanner: session.sshBanner,
    sshMessage: session.sshMessage,
    expiredAt: session.expiredAt,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
  };
}

function publicKeyFields(key: PublicKeyView): PublicKeyView {
  const { publicKeyAlgorithm, publicKeySsh, publicKeySha256, publicKeyMd5, publicKeyPem } = key;
  return { publicKeyAlgorithm, publicKeySsh, publicKeySha256, publicKeyMd5, publicKeyPem };
}

export function toSessionKeyView(key: SessionKey): SessionKeyView {
  return {
    id: key.id,
    name: key.name,
    externalId: key.externalId,
    ...publicKeyFields(key),
    verifiedAt: key.verifiedAt,
    createdAt: key.createdAt,
  };
}

export function toCollectedKeyView(key: ConnectionKey): SessionKeyView {
  return { id: key.id, name: null, externalId: null, ...publicKeyFields(key), verifiedAt: key.verifiedAt, createdAt: key.createdAt };
}

export function toConnectionKeyView(key: ConnectionKey, configured: Map<string, SessionKey>): ConnectionKeyView {
  const match = key.sessionKeyId ? configured.get(key.sessionKeyId) : undefined;
  return {
    id: key.id,
    sessionKeyId: key.sessionKeyId,
    name: match?.name ?? null,
    externalId: match?.externalId ?? null,
    ...publicKeyFields(key),
    verifiedAt: key.verifiedAt,
    createdAt: key.createdAt,
  };
}

export function toConnectionView(connection: Connection, keys: ConnectionKeyView[]): ConnectionView {
  return {
    id: connection.id,
    ipAddress: connection.ipAddress,
    clientVersion: connection.clientVersion,
    createdAt: connection.createdAt,
    keys,
  };
}

export function toWebhookView(webhook: Webhook): WebhookView {
  return {
    id: webhook.id,
    sessionId: webhook.sessionId,
    url: webhook.url,
    method: webhook.method,
    headers: webhook.headers,
    events: webhook.events,
    retries: webhook.retries,
    initialBackoff: webhook.initialBackoff,
    backoffMultiplier: webhook.backoffMultiplier,
    createdAt: webhook.createdAt,
    updatedAt: webhook.updatedAt,
  };
}

const asDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));
const asOptionalDate = (value: Date | string | null): Date | null => (value === null ? null : asDate(value));

/** Snapshots that crossed Redis carry dates as strings; restore exactly the date fields. */
export function reviveSessionDetail(detail: SessionDetail): SessionDetail {
  return {
    ...detail,
    expiredAt: asOptionalDate(detail.expiredAt),
    createdAt: asDate(detail.createdAt),
    updatedAt: asDate(detail.updatedAt),
    keys: detail.keys.map((key) => ({ ...key, verifiedAt: asOptionalDate(key.verifiedAt), createdAt: asDate(key.createdAt) })),
    connections: detail.connections.map((connection) => ({
      ...connection,
      createdAt: asDate(connection.createdAt),
      keys: connection.keys.map((key) => ({ ...key, verifiedAt: asDate(key.verifiedAt), createdAt: asDate(key.createdAt) })),
    })),
    webhooks: detail.webhooks.map((webhook) => ({
      ...webhook,
      createdAt: asDate(webhook.createdAt),
      updatedAt: asDate(webhook.updatedAt),
    })),
  };
}
