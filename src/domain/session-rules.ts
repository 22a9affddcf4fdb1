/** The session state machine and the per-connection proof rules (SPEC §1, §4, §6). Pure: no I/O. */

export type SessionKind = "verify" | "collect";
export type VerifyStatus = "pending" | "verified" | "failed" | "expired";
export type CollectStatus = "pending" | "completed" | "expired";
export type SessionStatus = VerifyStatus | CollectStatus;

export const VERIFY_STATUSES: readonly VerifyStatus[] = ["pending", "verified", "failed", "expired"];
export const COLLECT_STATUSES: readonly CollectStatus[] = ["pending", "completed", "expired"];

export function statusesOf(kind: SessionKind): readonly SessionStatus[] {
  return kind === "verify" ? VERIFY_STATUSES : COLLECT_STATUSES;
}

export interface SessionState {
  kind: SessionKind;
  status: SessionStatus;
  expiredAt: Date | null;
  multiConnection: boolean;
  failedAttempts: number;
  maxAttempts: number;
  satisfiedConnections: number;
}

/** `expired` is reported as soon as `expired_at` has passed while still pending, before any sweeper runs. */
export function effectiveStatus(session: Pick<SessionState, "status" | "expiredAt">, at: Date): SessionStatus {
  if (session.status === "pending" && session.expiredAt !== null && session.expiredAt.getTime() <= at.getTime()) {
    return "expired";
  }
  return session.status;
}

export function isOpen(session: Pick<SessionState, "status" | "expiredAt">, at: Date): boolean {
  return effectiveStatus(session, at) === "pending";
}

/** Settings may change only while nobody has connected yet. */
export function canUpdate(session: Pick<SessionState, "status" | "expiredAt">, connectionCount: number, at: Date) {
  return isOpen(session, at) && connectionCount === 0;
}

export function canComplete(session: Pick<SessionState, "status" | "expiredAt" | "multiConnection">, at: Date) {
  return session.multiConnection && isOpen(session, at);
}

/** Where `complete` leads: a verify session needs one satisfying connection to count as verified. */
export function completedStatus(session: Pick<SessionState, "kind" | "satisfiedConnections">): SessionStatus {
  if (session.kind === "collect") return "completed";
  return session.satisfiedConnections > 0 ? "verified" : "failed";
}

/** The status a satisfied connection leads to; multi-connection sessions stay open until completed. */
export function statusAfterSatisfied(session: Pick<SessionState, "kind" | "multiConnection">): SessionStatus {
  if (session.multiConnection) return "pending";
  return session.kind === "verify" ? "verified" : "completed";
}

/** A failed attempt counts only while pending; at `max_attempts` the session fails. */
export function statusAfterFailedAttempt(
  session: Pick<SessionState, "maxAttempts">,
  failedAttempts: number,
): SessionStatus {
  return failedAttempts >= session.maxAttempts ? "failed" : "pending";
}

export type RefusalReason = "unknown" | "expired" | "verified" | "failed" | "completed";

/** Why an SSH login is refused, or null when the session accepts connections. Unknown and deleted read the same. */
export function refusalReason(
  session: Pick<SessionState, "status" | "expiredAt"> | null,
  at: Date,
): RefusalReason | null {
  if (session === null) return "unknown";
  const status = effectiveStatus(session, at);
  return status === "pending" ? null : status;
}

/**
 * What one connection has proven so far, and what the server should answer to the next proof.
 * `configuredKeyIds` is empty for collect sessions.
 */
export interface ProofRules {
  kind: SessionKind;
  multiKey: boolean;
  matchAllKeys: boolean;
  configuredKeyIds: readonly string[];
}

/** Whether the keys proven on one connection satisfy the session. */
export function isSatisfied(rules: ProofRules, provenKeyIds: ReadonlySet<string>): boolean {
  if (rules.kind === "collect") return provenKeyIds.size > 0;
  if (rules.matchAllKeys) return rules.configuredKeyIds.every((id) => provenKeyIds.has(id));
  return rules.configuredKeyIds.some((id) => provenKeyIds.has(id));
}

/**
 * After a valid signature: accept the public-key request now, or reject it so the client offers its
 * remaining keys (a plain failure, never partial success), to be let in later by keyboard-interactive.
 */
export function answerToProof(rules: ProofRules, provenKeyIds: ReadonlySet<string>): "accept" | "ask-for-more" {
  if (rules.kind === "verify" && rules.matchAllKeys) {
    return isSatisfied(rules, provenKeyIds) ? "accept" : "ask-for-more";
  }
  return rules.multiKey ? "ask-for-more" : "accept";
}
