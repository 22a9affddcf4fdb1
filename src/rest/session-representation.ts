import type { SessionKind } from "../domain/session-rules.js";
import type { WebhookInput, WebhookMethodName } from "../domain/webhook-rules.js";
import type { KeyInput, SessionInput } from "../services/session-input.js";
import type {
  ConnectionKeyView,
  ConnectionView,
  PublicKeyView,
  SessionDetail,
  SessionKeyView,
  SessionView,
  WebhookView,
} from "../services/session-views.js";

/** REST times: RFC 3339 in UTC. */
const time = (value: Date): string => value.toISOString();
export const optionalTime = (value: Date | null): string | null => (value === null ? null : value.toISOString());

function publicKeyFields(key: PublicKeyView) {
  return {
    public_key_algorithm: key.publicKeyAlgorithm,
    public_key_md5: key.publicKeyMd5,
    public_key_pem: key.publicKeyPem,
    public_key_sha256: key.publicKeySha256,
    public_key_ssh: key.publicKeySsh,
  };
}

/** A verify key `{id, name, external_id, public_key_*, verified_at}`; a collected key `{id, created_at, public_key_*}`. */
function renderKey(kind: SessionKind, key: SessionKeyView | ConnectionKeyView) {
  if (kind === "collect") return { id: key.id, created_at: time(key.createdAt), ...publicKeyFields(key) };
  return {
    id: key.id,
    name: key.name,
    external_id: key.externalId,
    ...publicKeyFields(key),
    verified_at: optionalTime(key.verifiedAt),
  };
}

function renderConnection(kind: SessionKind, connection: ConnectionView) {
  return {
    id: connection.id,
    ip_address: connection.ipAddress,
    client_version: connection.clientVersion,
    created_at: time(connection.createdAt),
    keys: connection.keys.map((key) => renderKey(kind, key)),
  };
}

/** A webhook; `secret` is the signing secret in the answer that created it, null everywhere else. */
export function renderWebhook(webhook: WebhookView & { secret?: string }) {
  return {
    id: webhook.id,
    url: webhook.url,
    method: webhook.method,
    headers: webhook.headers,
    events: webhook.events,
    retries: webhook.retries,
    initial_backoff: webhook.initialBackoff,
    backoff_multiplier: webhook.backoffMultiplier,
    secret: webhook.secret ?? null,
    created_at: time(webhook.createdAt),
    updated_at: time(webhook.updatedAt),
  };
}

/** A summary: every field present, `null` where unset; collect sessions have no match_all_keys/max_attempts. */
export function renderSessionSummary(kind: SessionKind, session: SessionView): Record<string, unknown> {
  return {
    connection_identifier: session.connectionIdentifier,
    created_at: time(session.createdAt),
    expired_at: optionalTime(session.expiredAt),
    external_id: session.externalId,
    id: session.id,
    ...(kind === "verify" ? { match_all_keys: session.matchAllKeys, max_attempts: session.maxAttempts } : {}),
    multi_connection: session.multiConnection,
    multi_key: session.multiKey,
    must_confirm: session.mustConfirm,
    ssh_banner: session.sshBanner,
    ssh_message: session.sshMessage,
    status: session.status,
    updated_at: time(session.updatedAt),
  };
}

export function renderSessionDetail(kind: SessionKind, session: SessionDetail): Record<string, unknown> {
  return {
    ...renderSessionSummary(kind, session),
    keys: session.keys.map((key) => renderKey(kind, key)),
    connections: session.connections.map((connection) => renderConnection(kind, connection)),
    webhooks: session.webhooks.map(renderWebhook),
  };
}

/** A webhook config as the request schema (`WebhookCreate`) describes it. */
export interface WebhookBody {
  url?: string;
  method?: WebhookMethodName;
  headers?: Record<string, string[]>;
  events?: string[];
  retries?: number;
  initial_backoff?: number;
  backoff_multiplier?: number;
}

/** A create or merge-patch body as the request schemas describe it (already validated against them). */
export interface KeyBody {
  public_key: string;
  name?: string | null;
  external_id?: string | null;
}

export interface SessionBody {
  keys?: KeyBody[];
  external_id?: string | null;
  match_all_keys?: boolean | null;
  max_attempts?: number | null;
  multi_connection?: boolean | null;
  multi_key?: boolean | null;
  must_confirm?: boolean | null;
  ssh_banner?: string | null;
  ssh_message?: string | null;
  expired_at?: string | null;
  timeout?: number | null;
  webhooks?: WebhookBody[];
}

export function toWebhookInput(body: WebhookBody): WebhookInput {
  return {
    url: body.url,
    method: body.method,
    headers: body.headers,
    events: body.events,
    retries: body.retries,
    initialBackoff: body.initial_backoff,
    backoffMultiplier: body.backoff_multiplier,
  };
}

export function toKeyInput(body: KeyBody): KeyInput {
  return { publicKey: body.public_key, name: body.name, externalId: body.external_id };
}

/** REST names to the service's input; absent stays undefined (unchanged) and null stays null (clear). */
export function toSessionInput(body: SessionBody): SessionInput {
  const expiredAt = body.expired_at;
  return {
    externalId: body.external_id,
    matchAllKeys: body.match_all_keys,
    maxAttempts: body.max_attempts,
    multiConnection: body.multi_connection,
    multiKey: body.multi_key,
    mustConfirm: body.must_confirm,
    sshBanner: body.ssh_banner,
    sshMessage: body.ssh_message,
    expiredAt: expiredAt === undefined || expiredAt === null ? expiredAt : new Date(expiredAt),
    timeout: body.timeout,
    keys: body.keys?.map(toKeyInput),
    webhooks: body.webhooks?.map(toWebhookInput),
  };
}
