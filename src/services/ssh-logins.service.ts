import type { Database, Transaction } from "../db/database.js";
import { Connection, ConnectionKey, Session, SessionKey } from "../db/entities/index.js";
import { columnValue, execute, hydrate, insertRow, type Row, selectRows } from "../db/plain-sql.js";
import { newId, now } from "../domain/ids.js";
import type { ParsedPublicKey } from "../domain/public-keys.js";
import {
  effectiveStatus,
  refusalReason,
  statusAfterFailedAttempt,
  statusAfterSatisfied,
  type ProofRules,
  type RefusalReason,
  type SessionKind,
  type SessionStatus,
} from "../domain/session-rules.js";
import type { SessionEvents } from "./session-events.js";

/** What the SSH server needs to run a login: the session's rules and its configured keys. */
export interface LoginSession {
  id: string;
  kind: SessionKind;
  rules: ProofRules;
  /** Configured key id by SSH one-line form (`<algorithm> <base64>`); empty for collect sessions. */
  configuredKeys: Map<string, string>;
  mustConfirm: boolean;
  multiConnection: boolean;
  sshBanner: string | null;
  sshMessage: string | null;
  maxAttempts: number;
}

export interface ProvenKey {
  /** The configured key it matched (verify); null for a collected key. */
  sessionKeyId: string | null;
  key: ParsedPublicKey;
}

export type OpenedConnection = { connectionId: string; refusal: null } | { connectionId: null; refusal: RefusalReason };

export type OpenedLogin =
  | { session: LoginSession; connectionId: string; refusal: null }
  | { session: null; connectionId: null; refusal: RefusalReason };

/** The condition every state change of a login is conditional on: the session still accepts connections. */
const OPEN_SESSION = "id = :sessionId AND status = 'pending' AND (expired_at IS NULL OR expired_at > :at)";
/** The same, in written SQL: parameters session id, then now. */
const OPEN_SESSION_SQL = "id = ? AND status = 'pending' AND (expired_at IS NULL OR expired_at > ?)";

/** The column's width; an identification string may legally be that long, so longer ones are cut. */
const MAX_CLIENT_VERSION_CHARS = 255;

export interface ProofOutcome {
  /** False when the session stopped accepting (expired, completed, failed) before the proof was recorded. */
  recorded: boolean;
  /** The session's status afterwards; null when it was deleted meanwhile. */
  status: SessionStatus | null;
}

export interface FailedAttemptOutcome {
  counted: boolean;
  attempts: number;
  maxAttempts: number;
  /** The session's status afterwards; null when it was deleted meanwhile. */
  status: SessionStatus | null;
}

/** The use-cases of one SSH connection. Every state change is one transaction, committed as it happens. */
export class SshLoginsService {
  constructor(
    private readonly database: Database,
    private readonly events: SessionEvents,
  ) {}

  /**
   * What a login does once the user name is known, in one transaction: one indexed query for known and unknown
   * identifiers alike (the session with its configured keys, locked on MySQL), and when the session accepts
   * connections, the connection recorded with its `new_connection` event.
   */
  async openLogin(connectionIdentifier: string, ipAddress: string | null, clientVersion: string | null): Promise<OpenedLogin> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const rows = await selectRows(transaction.manager, `${LOGIN_SESSION_SQL}${lockClause(transaction)}`, [connectionIdentifier]);
      const session = rows[0] === undefined ? null : hydrate(transaction.manager, Session, rows[0]);
      const refusal = refusalReason(session, at);
      if (refusal !== null || session === null) return { session: null, connectionId: null, refusal: refusal ?? "unknown" };
      const connectionId = await this.recordConnection(transaction, session, ipAddress, clientVersion, at);
      return { session: loginSessionOf(session, rows), connectionId, refusal: null };
    });
  }

  /**
   * Records a connection to a session known by id, with its `new_connection` event; refused (and not recorded)
   * when the session does not accept connections.
   */
  async openConnection(sessionId: string, ipAddress: string | null, clientVersion: string | null): Promise<OpenedConnection> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const session = await this.lockSession(transaction, sessionId);
      const refusal = refusalReason(session, at);
      if (refusal !== null || session === null) return { connectionId: null, refusal: refusal ?? "unknown" };
      return { connectionId: await this.recordConnection(transaction, session, ipAddress, clientVersion, at), refusal: null };
    });
  }

  /**
   * Records keys whose signatures were checked (and confirmed, with must_confirm) and that satisfy the
   * session's rules. The first such proof of a connection moves the session by one conditional update, so
   * concurrent connections cannot both close it; later keys of the same connection (multi_key) follow,
   * on no other connection once the session has closed.
   */
  async recordProof(connectionId: string, sessionId: string, keys: ProvenKey[]): Promise<ProofOutcome> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      // Locked first (MySQL), so what this transaction reads stays true until it commits.
      const [row] = await selectRows(
        manager,
        `SELECT s.*, c.satisfied AS connection_satisfied FROM sessions s JOIN connections c ON c.session_id = s.id
         WHERE s.id = ? AND c.id = ?${lockClause(transaction)}`,
        [sessionId, connectionId],
      );
      if (row === undefined) return { recorded: false, status: null };
      const session = hydrate(manager, Session, row);
      const previousStatus = session.status;
      if (!hydratedBoolean(row.connection_satisfied)) {
        const status = statusAfterSatisfied(session);
        const changed = await execute(
          manager,
          `UPDATE sessions SET status = ?, satisfied_connections = satisfied_connections + 1, updated_at = ? WHERE ${OPEN_SESSION_SQL}`,
          [status, columnValue(manager, Session, "updatedAt", at), sessionId, columnValue(manager, Session, "expiredAt", at)],
        );
        if (changed === 0) return { recorded: false, status: effectiveStatus(session, at) };
        await execute(manager, "UPDATE connections SET satisfied = ? WHERE id = ?", [columnValue(manager, Connection, "satisfied", true), connectionId]);
        // The row as the update left it: this transaction holds it (MySQL) or runs alone (SQLite).
        Object.assign(session, { status, satisfiedConnections: session.satisfiedConnections + 1, updatedAt: at });
      }
      // Same timestamp for all: sorted ids keep the keys in the order they were proven.
      const ids = keys.map(() => newId(at)).sort();
      for (const [index, key] of keys.entries()) await this.recordKey(transaction, session, connectionId, key, ids[index]!, at);
      if (session.status !== previousStatus) await this.events.statusChanged(transaction, session, previousStatus, at);
      return { recorded: true, status: session.status };
    });
  }

  /**
   * Counts a failed attempt while the session is pending, by one conditional update, so concurrent
   * connections never count past `max_attempts`; the attempt that reaches it fails the session.
   */
  async recordFailedAttempt(
    connectionId: string,
    sessionId: string,
    details: { ipAddress: string | null; clientVersion: string | null; reason: string },
  ): Promise<FailedAttemptOutcome> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      const counted = await manager
        .createQueryBuilder()
        .update(Session)
        .set({ failedAttempts: () => "failed_attempts + 1", updatedAt: at })
        .where(`${OPEN_SESSION} AND kind = 'verify'`, { sessionId, at })
        .execute();
      // Read after the update: on MySQL this transaction now holds the row, and a locking read sees it as it is.
      const session = await this.lockSession(transaction, sessionId);
      if (!session) return { counted: false, attempts: 0, maxAttempts: 0, status: null };
      const { failedAttempts: attempts, maxAttempts } = session;
      if (!counted.affected) return { counted: false, attempts, maxAttempts, status: effectiveStatus(session, at) };
      const previous = session.status;
      session.status = statusAfterFailedAttempt(session, attempts);
      if (session.status !== previous) await manager.update(Session, { id: sessionId }, { status: session.status });
      await this.events.record(transaction, session, "failed_attempt", {
        verify_session_connection_id: connectionId,
        ip_address: details.ipAddress,
        client_version: details.clientVersion,
        attempts,
        max_attempts: maxAttempts,
        reason: details.reason,
      }, at);
      if (session.status !== previous) await this.events.statusChanged(transaction, session, previous, at);
      return { counted: true, attempts, maxAttempts, status: session.status };
    });
  }

  private async recordConnection(transaction: Transaction, session: Session, ipAddress: string | null, clientVersion: string | null, at: Date) {
    const id = newId(at);
    await insertRow(transaction.manager, Connection, {
      id,
      sessionId: session.id,
      ipAddress,
      clientVersion: clientVersion === null ? null : clientVersion.slice(0, MAX_CLIENT_VERSION_CHARS),
      satisfied: false,
      createdAt: at,
    });
    await this.events.record(transaction, session, "new_connection", {
      [`${prefixOf(session)}_connection_id`]: id,
      ip_address: ipAddress,
      client_version: clientVersion,
    }, at);
    return id;
  }

  /** One proven key on the connection, its configured key marked verified, and its event. */
  private async recordKey(transaction: Transaction, session: Session, connectionId: string, proven: ProvenKey, id: string, at: Date) {
    const { manager } = transaction;
    const { sessionKeyId, key } = proven;
    const connectionKey = {
      id,
      connectionId,
      sessionId: session.id,
      sessionKeyId,
      publicKeyAlgorithm: key.algorithm,
      publicKeySsh: key.ssh,
      publicKeySha256: key.sha256,
      publicKeyMd5: key.md5,
      publicKeyPem: key.pem,
      verifiedAt: at,
      createdAt: at,
    };
    await insertRow(manager, ConnectionKey, connectionKey);
    const keyFields = {
      public_key_ssh: key.ssh,
      public_key_pem: key.pem,
      public_key_md5: key.md5,
      public_key_sha256: key.sha256,
      public_key_algorithm: key.algorithm,
    };
    const connectionField = { [`${prefixOf(session)}_connection_id`]: connectionId };
    if (sessionKeyId === null) {
      await this.events.record(transaction, session, "key_collected", {
        ...connectionField,
        collect_session_key_id: connectionKey.id,
        ...keyFields,
      }, at);
      return;
    }
    await execute(manager, "UPDATE session_keys SET verified_at = ? WHERE id = ? AND verified_at IS NULL", [
      columnValue(manager, SessionKey, "verifiedAt", at),
      sessionKeyId,
    ]);
    await this.events.record(transaction, session, "verified", {
      ...connectionField,
      verify_session_key_id: sessionKeyId,
      verify_session_connection_key_id: connectionKey.id,
      ...keyFields,
    }, at);
  }

  private async lockSession(transaction: Transaction, sessionId: string): Promise<Session | null> {
    const [row] = await selectRows(transaction.manager, `SELECT * FROM sessions WHERE id = ?${lockClause(transaction)}`, [sessionId]);
    return row === undefined ? null : hydrate(transaction.manager, Session, row);
  }
}

/** A row lock on MySQL; SQLite serializes every access anyway. */
function lockClause(transaction: Transaction): string {
  return transaction.dialect === "mysql" ? " FOR UPDATE" : "";
}

/** A boolean read outside an entity: 0/1 on both databases (MySQL may answer "0"/"1" or a bit buffer). */
function hydratedBoolean(value: unknown): boolean {
  if (Buffer.isBuffer(value)) return value[0] === 1;
  return value === true || value === 1 || value === "1";
}

function prefixOf(session: Session): string {
  return session.kind === "verify" ? "verify_session" : "collect_session";
}

/** The session row joined with its configured keys, in position order. Written SQL, as every statement of a login (db/plain-sql.ts). */
const LOGIN_SESSION_SQL = `SELECT s.*, k.id AS configured_key_id, k.public_key_ssh AS configured_key_ssh
  FROM sessions s LEFT JOIN session_keys k ON k.session_id = s.id
  WHERE s.connection_identifier = ? ORDER BY k.position`;

function loginSessionOf(session: Session, rows: Row[]): LoginSession {
  const configuredKeys = new Map<string, string>();
  for (const row of rows) {
    if (typeof row.configured_key_id === "string" && typeof row.configured_key_ssh === "string") {
      configuredKeys.set(row.configured_key_ssh, row.configured_key_id);
    }
  }
  return {
    id: session.id,
    kind: session.kind,
    rules: { kind: session.kind, multiKey: session.multiKey, matchAllKeys: session.matchAllKeys, configuredKeyIds: [...configuredKeys.values()] },
    configuredKeys,
    mustConfirm: session.mustConfirm,
    multiConnection: session.multiConnection,
    sshBanner: session.sshBanner,
    sshMessage: session.sshMessage,
    maxAttempts: session.maxAttempts,
  };
}
