import { describe, expect, it } from "vitest";
import {
  answerToProof,
  canComplete,
  canUpdate,
  completedStatus,
  effectiveStatus,
  isSatisfied,
  refusalReason,
  statusAfterFailedAttempt,
  statusAfterSatisfied,
  type ProofRules,
} from "../../src/domain/session-rules.js";

const at = new Date("2026-01-01T12:00:00.000Z");
const past = new Date(at.getTime() - 1);
const future = new Date(at.getTime() + 1000);

describe("session state machine", () => {
  it("reports a pending session past expired_at as expired", () => {
    expect(effectiveStatus({ status: "pending", expiredAt: past }, at)).toBe("expired");
    expect(effectiveStatus({ status: "pending", expiredAt: at }, at)).toBe("expired");
    expect(effectiveStatus({ status: "pending", expiredAt: future }, at)).toBe("pending");
    expect(effectiveStatus({ status: "pending", expiredAt: null }, at)).toBe("pending");
  });

  it("keeps a final status even after expired_at", () => {
    expect(effectiveStatus({ status: "verified", expiredAt: past }, at)).toBe("verified");
    expect(effectiveStatus({ status: "failed", expiredAt: past }, at)).toBe("failed");
    expect(effectiveStatus({ status: "completed", expiredAt: past }, at)).toBe("completed");
  });

  it("allows updates only while pending and before any connection", () => {
    expect(canUpdate({ status: "pending", expiredAt: null }, 0, at)).toBe(true);
    expect(canUpdate({ status: "pending", expiredAt: null }, 1, at)).toBe(false);
    expect(canUpdate({ status: "pending", expiredAt: past }, 0, at)).toBe(false);
    expect(canUpdate({ status: "verified", expiredAt: null }, 0, at)).toBe(false);
  });

  it("completes only pending multi_connection sessions", () => {
    expect(canComplete({ status: "pending", expiredAt: null, multiConnection: true }, at)).toBe(true);
    expect(canComplete({ status: "pending", expiredAt: null, multiConnection: false }, at)).toBe(false);
    expect(canComplete({ status: "pending", expiredAt: past, multiConnection: true }, at)).toBe(false);
    expect(canComplete({ status: "failed", expiredAt: null, multiConnection: true }, at)).toBe(false);
  });

  it("completes a verify session as verified only when a connection satisfied it", () => {
    expect(completedStatus({ kind: "verify", satisfiedConnections: 1 })).toBe("verified");
    expect(completedStatus({ kind: "verify", satisfiedConnections: 0 })).toBe("failed");
    expect(completedStatus({ kind: "collect", satisfiedConnections: 0 })).toBe("completed");
  });

  it("keeps multi_connection sessions pending after a satisfied connection", () => {
    expect(statusAfterSatisfied({ kind: "verify", multiConnection: false })).toBe("verified");
    expect(statusAfterSatisfied({ kind: "collect", multiConnection: false })).toBe("completed");
    expect(statusAfterSatisfied({ kind: "verify", multiConnection: true })).toBe("pending");
  });

  it("fails the session at max_attempts failed connections", () => {
    expect(statusAfterFailedAttempt({ maxAttempts: 3 }, 2)).toBe("pending");
    expect(statusAfterFailedAttempt({ maxAttempts: 3 }, 3)).toBe("failed");
    expect(statusAfterFailedAttempt({ maxAttempts: 1 }, 1)).toBe("failed");
  });

  it("refuses unknown and deleted identifiers alike, and says why for the others", () => {
    expect(refusalReason(null, at)).toBe("unknown");
    expect(refusalReason({ status: "pending", expiredAt: past }, at)).toBe("expired");
    expect(refusalReason({ status: "verified", expiredAt: null }, at)).toBe("verified");
    expect(refusalReason({ status: "completed", expiredAt: null }, at)).toBe("completed");
    expect(refusalReason({ status: "pending", expiredAt: null }, at)).toBeNull();
  });
});

describe("proof rules of one connection", () => {
  const verify = (options: Partial<ProofRules> = {}): ProofRules => ({
    kind: "verify",
    multiKey: false,
    matchAllKeys: false,
    configuredKeyIds: ["a", "b"],
    ...options,
  });

  it("accepts the first proven key directly without multi_key (BatchMode scripts work)", () => {
    expect(answerToProof(verify(), new Set(["a"]))).toBe("accept");
    expect(isSatisfied(verify(), new Set(["b"]))).toBe(true);
  });

  it("asks for more keys after each proof with multi_key", () => {
    expect(answerToProof(verify({ multiKey: true }), new Set(["a"]))).toBe("ask-for-more");
    expect(isSatisfied(verify({ multiKey: true }), new Set(["a"]))).toBe(true);
  });

  it("needs every configured key with match_all_keys, accepting on the last one", () => {
    const rules = verify({ matchAllKeys: true });
    expect(answerToProof(rules, new Set(["a"]))).toBe("ask-for-more");
    expect(isSatisfied(rules, new Set(["a"]))).toBe(false);
    expect(answerToProof(rules, new Set(["a", "b"]))).toBe("accept");
    expect(isSatisfied(rules, new Set(["b", "a"]))).toBe(true);
  });

  it("is not satisfied by nothing", () => {
    expect(isSatisfied(verify(), new Set())).toBe(false);
    expect(isSatisfied({ kind: "collect", multiKey: false, matchAllKeys: false, configuredKeyIds: [] }, new Set())).toBe(false);
  });

  it("collects the first key directly, or all of them with multi_key", () => {
    const collect: ProofRules = { kind: "collect", multiKey: false, matchAllKeys: false, configuredKeyIds: [] };
    expect(answerToProof(collect, new Set(["x"]))).toBe("accept");
    expect(answerToProof({ ...collect, multiKey: true }, new Set(["x"]))).toBe("ask-for-more");
    expect(isSatisfied(collect, new Set(["x"]))).toBe(true);
  });
});
