import type { AuthContext, KeyboardAuthContext, PublicKeyAuthContext } from "ssh2";
import { answerToProof, isSatisfied, type RefusalReason, type SessionStatus } from "../domain/session-rules.js";
import type { FailedAttemptOutcome, LoginSession, ProvenKey, SshLoginsService } from "../services/ssh-logins.service.js";
import { hasValidSignature, isReadable, OfferedKeys, offeredKeyLine } from "./key-proof.js";
import { refusalLine, type ConnectionResult } from "./login-texts.js";

export interface LoginFlowOptions {
  ipAddress: string | null;
  clientVersion: string | null;
  maxKeyOffers: number;
  /** Sends the authentication banner (USERAUTH_BANNER) on this connection. */
  sendBanner(text: string): void;
  /**
   * SSH_MAX_KEY_OFFERS took effect: `reached` once, when the server stops taking key offers; `exceeded` when the
   * client offers more all the same, which no well-behaved client does.
   */
  onKeyOfferCap(event: KeyOfferCapEvent): void;
}

export type KeyOfferCapEvent = "reached" | "exceeded";

/** How a must_confirm prompt ended. */
export type ConfirmationAnswer = "confirmed" | "declined" | "timed-out";

type Identity = { session: LoginSession; connectionId: string; refusal: null } | { refusal: RefusalReason };

type AuthMethod = "publickey" | "keyboard-interactive";

/**
 * The authentication of one SSH connection, for verify and collect sessions alike: user name -> session,
 * proof of possession, and what is recorded. Every state change goes through the service layer and
 * commits when the signature (or the `y`) is checked. Steps run one at a time, in arrival order.
 */
export class LoginFlow {
  private identity: Identity | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private keyOffers = 0;
  private readonly offerCapReported = new Set<KeyOfferCapEvent>();
  private readonly offeredKeys = new OfferedKeys();
  /** The key that got "go ahead and sign" (PK_OK): its signed request is not a new offer. */
  private awaitingSignatureFrom: string | null = null;
  private madePublicKeyRequest = false;
  /** Keys proven on this connection, by OpenSSH one-line form. */
  private readonly proven = new Map<string, ProvenKey>();
  /** Proven keys not yet recorded: waiting for the rest (match_all_keys) or for the `y` (must_confirm). */
  private unrecorded: ProvenKey[] = [];
  private recordedKeys = 0;
  private satisfiedAndRecorded = false;
  private confirmation: ConfirmationAnswer | null = null;
  private failedAttempt: FailedAttemptOutcome | null = null;
  /** Set when the session stopped accepting while this connection was in progress. */
  private closedReason: RefusalReason | null = null;

  constructor(
    private readonly logins: SshLoginsService,
    private readonly options: LoginFlowOptions,
  ) {}

  /** Answers one authentication request (ssh2's `authentication` event). */
  authenticate(request: AuthContext): Promise<void> {
    return this.serially(async () => {
      const identity = await this.identify(request.username);
      if (identity.refusal !== null) return this.refuse(request);
      if (request.method === "publickey") return this.answerPublicKey(identity, request);
      if (request.method === "keyboard-interactive") return this.answerKeyboardInteractive(identity, request);
      request.reject(this.methodsLeft());
    });
  }

  /** The session's `ssh_message`, shown on the session channel; null when refused or unset. */
  get message(): string | null {
    return this.identity?.refusal === null ? this.identity.session.sshMessage : null;
  }

  /** True while proven keys satisfy the session but only count after the person answers `y`. */
  get awaitsConfirmation(): boolean {
    const identity = this.identity;
    if (identity === null || identity.refusal !== null || !identity.session.mustConfirm) return false;
    return this.confirmation === null && this.closedReason === null && this.isSatisfiedSoFar(identity.session);
  }

  /** Records the `y` (keys count from now on), or a refusal or silence (a failed attempt for verify). */
  confirm(answer: ConfirmationAnswer): Promise<void> {
    return this.serially(async () => {
      const identity = this.identity;
      if (!this.awaitsConfirmation || identity === null || identity.refusal !== null) return;
      this.confirmation = answer;
      if (answer === "confirmed") return this.recordProvenKeys(identity);
      this.unrecorded = [];
      if (identity.session.kind === "verify") {
        await this.countFailedAttempt(identity, answer === "declined" ? "not_confirmed" : "confirmation_timeout");
      }
    });
  }

  /** What this connection achieved, for the last line on the session channel. */
  result(): ConnectionResult {
    const identity = this.identity;
    if (identity === null) return { kind: "session-closed", reason: "unknown" };
    if (identity.refusal !== null) return { kind: "session-closed", reason: identity.refusal };
    if (this.closedReason !== null) return { kind: "session-closed", reason: this.closedReason };
    const { session } = identity;
    if (session.kind === "collect") {
      if (this.satisfiedAndRecorded) return { kind: "collected", keys: this.recordedKeys };
      return this.confirmation === null ? { kind: "nothing-collected" } : { kind: "not-collected" };
    }
    if (this.satisfiedAndRecorded) return { kind: "verified" };
    if (this.failedAttempt !== null) {
      return { kind: "not-verified", attempts: this.failedAttempt.attempts, maxAttempts: this.failedAttempt.maxAttempts };
    }
    return { kind: "no-key-offered" };
  }

  /**
   * At disconnect: a verify connection that made a public-key request and verified nothing is a failed
   * attempt (BatchMode clients, `ssh -N` with must_confirm), unless it was already counted.
   */
  finish(): Promise<void> {
    return this.serially(async () => {
      const identity = this.identity;
      if (identity === null || identity.refusal !== null || identity.session.kind !== "verify") return;
      if (this.failedAttempt !== null || this.satisfiedAndRecorded || this.closedReason !== null) return;
      if (!this.madePublicKeyRequest) return;
      await this.countFailedAttempt(identity, this.failureReason(identity.session));
    });
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const result = this.queue.then(step);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** The first request names the session; its banner (or the refusal line) goes out before any answer. */
  private async identify(connectionIdentifier: string): Promise<Identity> {
    if (this.identity !== null) return this.identity;
    const { ipAddress, clientVersion } = this.options;
    const opened = await this.logins.openLogin(connectionIdentifier, ipAddress, clientVersion);
    const identity: Identity =
      opened.refusal === null ? { session: opened.session, connectionId: opened.connectionId, refusal: null } : { refusal: opened.refusal };
    this.identity = identity;
    if (identity.refusal !== null) this.options.sendBanner(`${refusalLine(identity.refusal)}\n`);
    else if (identity.session.sshBanner) this.options.sendBanner(withFinalNewline(identity.session.sshBanner));
    return identity;
  }

  /** A refused login reads "Permission denied (publickey)" under the refusal banner, whatever the client tries. */
  private refuse(request: AuthContext): void {
    if (request.method === "publickey") this.countKeyOffer();
    if (this.keyOffers < this.options.maxKeyOffers) return request.reject(["publickey"]);
    this.reportOfferCap("reached");
    request.reject([]);
  }

  private async answerPublicKey(identity: Identity & { refusal: null }, request: PublicKeyAuthContext): Promise<void> {
    this.madePublicKeyRequest = true;
    const blob = isReadable(request) ? request.key.data.toString("base64") : null;
    const followsOffer = request.signature !== undefined && blob !== null && this.awaitingSignatureFrom === blob;
    this.awaitingSignatureFrom = null;
    if (!followsOffer && !this.countKeyOffer()) return request.reject(this.methodsLeft());
    if (blob === null) return request.reject(this.methodsLeft());
    const { session } = identity;
    // A verify session turns down any key it was not configured with before parsing it.
    const sessionKeyId = session.configuredKeys.get(offeredKeyLine(request)) ?? null;
    if (session.kind === "verify" && sessionKeyId === null) return request.reject(this.methodsLeft());
    const key = this.offeredKeys.provable(request);
    if (key === null) return request.reject(this.methodsLeft());
    if (request.signature === undefined) {
      this.awaitingSignatureFrom = blob;
      return request.accept(); // PK_OK: "go ahead and sign"
    }
    if (!(await hasValidSignature(request, key))) return request.reject(this.methodsLeft());
    await this.prove(identity, { sessionKeyId, key: key.parsed });
    // A session that closed meanwhile lets the client in only to read why.
    if (this.closedReason !== null) return request.accept();
    if (answerToProof(session.rules, this.provenIds(session)) === "accept") return request.accept();
    request.reject(this.methodsLeft()); // a plain failure, never partial success: the client offers its next key
  }

  /** Reached once the client has no key left to offer; it is let in to read its result. */
  private async answerKeyboardInteractive(identity: Identity & { refusal: null }, request: KeyboardAuthContext) {
    const { session } = identity;
    const unproven = session.kind === "verify" && !this.isSatisfiedSoFar(session) && this.closedReason === null;
    if (unproven && this.madePublicKeyRequest && this.failedAttempt === null) {
      await this.countFailedAttempt(identity, this.failureReason(session));
    }
    request.accept();
  }

  private async prove(identity: Identity & { refusal: null }, provenKey: ProvenKey): Promise<void> {
    if (this.proven.has(provenKey.key.ssh)) return;
    this.proven.set(provenKey.key.ssh, provenKey);
    this.unrecorded.push(provenKey);
    if (!identity.session.mustConfirm || this.confirmation === "confirmed") await this.recordProvenKeys(identity);
  }

  /** Commits the proven keys once they satisfy the session; later keys of this connection follow one by one. */
  private async recordProvenKeys({ session, connectionId }: Identity & { refusal: null }): Promise<void> {
    if (!isSatisfied(session.rules, this.provenIds(session))) return;
    if (this.unrecorded.length === 0 || this.closedReason !== null) return;
    const keys = this.unrecorded;
    this.unrecorded = [];
    const outcome = await this.logins.recordProof(connectionId, session.id, keys);
    if (!outcome.recorded) {
      this.closedReason = closedReasonOf(outcome.status);
      return;
    }
    this.recordedKeys += keys.length;
    this.satisfiedAndRecorded = true;
  }

  private async countFailedAttempt({ session, connectionId }: Identity & { refusal: null }, reason: string) {
    const outcome = await this.logins.recordFailedAttempt(connectionId, session.id, {
      ipAddress: this.options.ipAddress,
      clientVersion: this.options.clientVersion,
      reason,
    });
    if (outcome.counted) this.failedAttempt = outcome;
    else this.closedReason = closedReasonOf(outcome.status);
  }

  private failureReason(session: LoginSession): string {
    if (session.mustConfirm && isSatisfied(session.rules, this.provenIds(session))) return "not_confirmed";
    return this.proven.size > 0 ? "not_all_keys" : "wrong_key";
  }

  private isSatisfiedSoFar(session: LoginSession): boolean {
    return this.satisfiedAndRecorded || isSatisfied(session.rules, this.provenIds(session));
  }

  /** Configured key ids for verify sessions; for collect sessions every proven key counts by itself. */
  private provenIds(session: LoginSession): Set<string> {
    const keys = [...this.proven.values()];
    return new Set(session.kind === "verify" ? keys.map((proven) => proven.sessionKeyId ?? "") : keys.map((proven) => proven.key.ssh));
  }

  private methodsLeft(): AuthMethod[] {
    if (this.keyOffers < this.options.maxKeyOffers) return ["publickey", "keyboard-interactive"];
    this.reportOfferCap("reached");
    return ["keyboard-interactive"];
  }

  /** Counts one key offer; false, reported as `exceeded`, for an offer past SSH_MAX_KEY_OFFERS. */
  private countKeyOffer(): boolean {
    if (this.keyOffers >= this.options.maxKeyOffers) {
      this.reportOfferCap("exceeded");
      return false;
    }
    this.keyOffers += 1;
    return true;
  }

  private reportOfferCap(event: KeyOfferCapEvent): void {
    if (event === "exceeded") this.reportOfferCap("reached");
    if (this.offerCapReported.has(event)) return;
    this.offerCapReported.add(event);
    this.options.onKeyOfferCap(event);
  }
}

function closedReasonOf(status: SessionStatus | null): RefusalReason {
  return status === null || status === "pending" ? "unknown" : status;
}

function withFinalNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}
