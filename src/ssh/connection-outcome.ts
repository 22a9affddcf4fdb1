import type { SessionKind } from "../domain/session-rules.js";
import type { SshConnectionOutcome, VerificationOutcome } from "../metrics.js";
import type { ConnectionResult } from "./login-texts.js";

/** Why the server, rather than the client, ended a connection. */
export type ServerEnding = "timeout" | "shutdown" | "rejected_limit" | "rejected_proxy";

/** The metrics label of a finished connection: what it achieved, else why the server ended it. */
export function connectionOutcomeOf(result: ConnectionResult, endedBy: ServerEnding | null): SshConnectionOutcome {
  if (result.kind === "verified" || result.kind === "collected") return "satisfied";
  if (endedBy !== null) return endedBy;
  if (result.kind === "session-closed") return "refused";
  return "not_satisfied";
}

/** The verification a connection made, if it proved or tried keys; null when it never got that far. */
export function verificationOf(result: ConnectionResult): { kind: SessionKind; outcome: VerificationOutcome } | null {
  switch (result.kind) {
    case "verified":
      return { kind: "verify", outcome: "satisfied" };
    case "not-verified":
      return { kind: "verify", outcome: "not_satisfied" };
    case "collected":
      return { kind: "collect", outcome: "satisfied" };
    case "not-collected":
      return { kind: "collect", outcome: "not_satisfied" };
    default:
      return null;
  }
}
