import type { Database, Transaction } from "../db/database.js";
import { Connection, ConnectionKey, Session, SessionKey } from "../db/entities/index.js";
import { newId, now } from "../domain/ids.js";
import type { ParsedPublicKey } from "../domain/public-keys.js";
import {
  effectiveStatus,
  isOpen,
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

export type LoginLookup = { session: LoginSession; refusal: null } | { session: null; refusal: RefusalReason };

export interface ProvenKey {
  /** The configured key it matched (verify); null for a collected key. */
  sessionKeyId: string | null;
  key: ParsedPublicKey;
}

export type OpenedConnection = { connectionId: string; refusal: null } | { connectionId: null; refusal: RefusalReason };

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

  /** One indexed query for known and unknown identifiers alike: the session joined with its configured keys. */
  async findSession(connectionIdentifier: string): Promise<LoginLookup> {
    const at = now();
    const { entities, raw } = await this.database.read((manager) =>
      manager
        .createQueryBuilder(Session, "s")
        .leftJoin(SessionKey, "k", "k.session_id = s.id")
        .addSelect(["k.id", "k.publicKeySsh", "k.position"])
        .where("s.connection_identifier = :connectionIdentifier", { connectionIdentifier })
        .orderBy("k.position", "ASC")
        .getRawAndEntities(),
    );
    const session = entities[0] ?? null;
    const refusal = refusalReason(session, at);
    if (refusal !== null || session === null) return { session: null, refusal: refusal ?? "unknown" };
    const configuredKeys = new Map<string, string>();
    for (const row of raw as Array<Record<string, unknown>>) {
      if (typeof row.k_id === "string" && typeof row.k_public_key_ssh === "string") {
        configuredKeys.set(row.k_public_key_ssh, row.k_id);
      }
    }
    return {
      refusal: null,
      session: {
        id: session.id,
        kind: session.kind,
        rules: {
          kind: session.kind,
          multiKey: session.multiKey,
          matchAllKeys: session.matchAllKeys,
          configuredKeyIds: [...configuredKeys.values()],
        },
        configuredKeys,
        mustConfirm: session.mustConfirm,
        multiConnection: session.multiConnection,
        sshBanner: session.sshBanner,
        sshMessage: session.sshMessage,
        maxAttempts: session.maxAttempts,
      },
    };
  }

  /**
   * Records the connection once the user name is known, with its `new_connection` event; refused (and not
   * recorded) when the session stopped accepting connections since `findSession`.
   */
  async openConnection(sessionId: string, ipAddress: string | null, clientVersion: string | null): Promise<OpenedConnection> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const session = await this.lockSession(transaction, sessionId);
      const refusal = refusalReason(session, at);
      if (refusal !== null || session === null) return { connectionId: null, refusal: refusal ?? "unknown" };
      const id = newId(at);
      await transaction.manager.insert(Connection, {
        id,
        sessionId,
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
      return { connectionId: id, refusal: null };
    });
  }

  /**
   * Records keys whose signatures were checked (and confirmed, with must_confirm). When they satisfy the
   * session, the connection counts as satisfied and the status moves, all in this one transaction.
   * Keys go on being recorded on the connection that closed the session (`multi_key`); on no other.
   */
  async recordProof(connectionId: string, sessionId: string, keys: ProvenKey[], satisfied: boolean): Promise<ProofOutcome> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      const session = await this.lockSession(transaction, sessionId);
      if (!session) return { recorded: false, status: null };
      const connection = await manager.findOneBy(Connection, { id: connectionId, sessionId });
      if (!connection) return { recorded: false, status: null };
      if (!isOpen(session, at) && !connection.satisfied) return { recorded: false, status: effectiveStatus(session, at) };
      const prefix = prefixOf(session);
      for (const { sessionKeyId, key } of keys) {
        const connectionKey = {
          id: newId(at),
          connectionId,
          sessionId,
          sessionKeyId,
          publicKeyAlgorithm: key.algorithm,
          publicKeySsh: key.ssh,
          publicKeySha256: key.sha256,
          publicKeyMd5: key.md5,
          publicKeyPem: key.pem,
          verifiedAt: at,
          createdAt: at,
        };
        await manager.insert(ConnectionKey, connectionKey);
        const keyFields = {
          public_key_ssh: key.ssh,
          public_key_pem: key.pem,
          public_key_md5: key.md5,
          public_key_sha256: key.sha256,
          public_key_algorithm: key.algorithm,
        };
        if (sessionKeyId) {
          await manager
            .createQueryBuilder()
            .update(SessionKey)
            .set({ verifiedAt: at })
            .where("id = :sessionKeyId AND verified_at IS NULL", { sessionKeyId })
            .execute();
          await this.events.record(transaction, session, "verified", {
            [`${prefix}_connection_id`]: connectionId,
            verify_session_key_id: sessionKeyId,
            verify_session_connection_key_id: connectionKey.id,
            ...keyFields,
          }, at);
        } else {
          await this.events.record(transaction, session, "key_collected", {
            [`${prefix}_connection_id`]: connectionId,
            collect_session_key_id: connectionKey.id,
            ...keyFields,
          }, at);
        }
      }
      if (satisfied) {
        if (!connection.satisfied) {
          await manager.update(Connection, { id: connectionId }, { satisfied: true });
          session.satisfiedConnections += 1;
          const previous = session.status;
          session.status = statusAfterSatisfied(session);
          session.updatedAt = at;
          await manager.update(
            Session,
            { id: sessionId },
            { satisfiedConnections: session.satisfiedConnections, status: session.status, updatedAt: at },
          );
          if (session.status !== previous) await this.events.statusChanged(transaction, session, previous, at);
        }
      }
      return { recorded: true, status: session.status };
    });
  }

  /** Counts a failed attempt while the session is pending; at `max_attempts` the session fails. */
  async recordFailedAttempt(
    connectionId: string,
    sessionId: string,
    details: { ipAddress: string | null; clientVersion: string | null; reason: string },
  ): Promise<FailedAttemptOutcome> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const session = await this.lockSession(transaction, sessionId);
      if (!session) return { counted: false, attempts: 0, maxAttempts: 0, status: null };
      if (session.kind !== "verify" || !isOpen(session, at)) {
        const status = effectiveStatus(session, at);
        return { counted: false, attempts: session.failedAttempts, maxAttempts: session.maxAttempts, status };
      }
      const previous = session.status;
      session.failedAttempts += 1;
      session.status = statusAfterFailedAttempt(session, session.failedAttempts);
      session.updatedAt = at;
      await transaction.manager.update(
        Session,
        { id: sessionId },
        { failedAttempts: session.failedAttempts, status: session.status, updatedAt: at },
      );
      await this.events.record(transaction, session, "failed_attempt", {
        verify_session_connection_id: connectionId,
        ip_address: details.ipAddress,
        client_version: details.clientVersion,
        attempts: session.failedAttempts,
        max_attempts: session.maxAttempts,
        reason: details.reason,
      }, at);
      if (session.status !== previous) await this.events.statusChanged(transaction, session, previous, at);
      return { counted: true, attempts: session.failedAttempts, maxAttempts: session.maxAttempts, status: session.status };
    });
  }

  private lockSession(transaction: Transaction, sessionId: string): Promise<Session | null> {
    return transaction
      .forUpdate(transaction.manager.createQueryBuilder(Session, "s"))
      .where("s.id = :sessionId", { sessionId })
      .getOne();
  }
}

function prefixOf(session: Session): string {
  return session.kind === "verify" ? "verify_session" : "collect_session";
}
