// Everything the person at the SSH client reads. One line each, so scripts can match them.
import type { RefusalReason } from "../domain/session-rules.js";

/** Shown as the authentication banner before "Permission denied". Unknown and deleted read the same. */
export function refusalLine(reason: RefusalReason): string {
  switch (reason) {
    case "unknown":
      return "This SSH login is not valid: no session has this identifier.";
    case "expired":
      return "This session has expired.";
    case "verified":
      return "This session is already verified.";
    case "failed":
      return "This session has failed and accepts no more logins.";
    case "completed":
      return "This session is already completed.";
  }
}

export const CONFIRM_PROMPT = "Press y to confirm: ";
export const NOT_CONFIRMED = "Not confirmed.";
export const CONFIRM_TIMED_OUT = "No answer in time.";

/** What one connection achieved, as the last line the person sees. */
export type ConnectionResult =
  | { kind: "verified" }
  | { kind: "not-verified"; attempts: number; maxAttempts: number }
  | { kind: "no-key-offered" }
  | { kind: "collected"; keys: number }
  | { kind: "nothing-collected" }
  | { kind: "not-collected" }
  | { kind: "session-closed"; reason: RefusalReason };

export function resultLine(result: ConnectionResult): string {
  switch (result.kind) {
    case "verified":
      return "Verified.";
    case "not-verified": {
      const left = Math.max(result.maxAttempts - result.attempts, 0);
      if (left === 0) return "Not verified: no attempts left, this session has failed.";
      return `Not verified: ${left} of ${result.maxAttempts} ${result.maxAttempts === 1 ? "attempt" : "attempts"} left`;
    }
    case "no-key-offered":
      return "Not verified: your SSH client offered no key. Choose one with: ssh -i <private key file> ...";
    case "collected":
      return result.keys === 1 ? "Collected 1 key." : `Collected ${result.keys} keys.`;
    case "nothing-collected":
      return "No key collected: your SSH client proved no ed25519, ecdsa or RSA (2048 bits or more) key. Choose one with: ssh -i <private key file> ...";
    case "not-collected":
      return "No key collected.";
    case "session-closed":
      return `Not accepted: ${refusalLine(result.reason)}`;
  }
}

/** Exit status of the session channel: 0 only when this connection verified or collected. */
export function exitCodeOf(result: ConnectionResult): number {
  return result.kind === "verified" || result.kind === "collected" ? 0 : 1;
}
