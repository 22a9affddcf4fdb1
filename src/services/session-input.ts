import { DomainError, type FieldError } from "../domain/errors.js";
import { parsePublicKey, PublicKeyError, type ParsedPublicKey } from "../domain/public-keys.js";
import type { SessionKind } from "../domain/session-rules.js";
import { webhookErrors, withWebhookDefaults, type WebhookInput, type WebhookSettings } from "../domain/webhook-rules.js";

export interface KeyInput {
  publicKey: string;
  name?: string | null;
  externalId?: string | null;
}

/**
 * Session settings as an adapter hands them over after checking their shape. For an update, `undefined`
 * leaves a field as it is and `null` clears it (JSON merge patch).
 */
export interface SessionInput {
  externalId?: string | null;
  matchAllKeys?: boolean | null;
  maxAttempts?: number | null;
  multiConnection?: boolean | null;
  multiKey?: boolean | null;
  mustConfirm?: boolean | null;
  sshBanner?: string | null;
  sshMessage?: string | null;
  expiredAt?: Date | null;
  timeout?: number | null;
  keys?: KeyInput[] | null;
  webhooks?: WebhookInput[] | null;
}

export const SESSION_LIMITS = {
  externalIdLength: 255,
  keyNameLength: 255,
  textLength: 4096,
  minKeys: 1,
  maxKeys: 100,
  maxAttempts: 1_000_000,
  maxTimeoutSeconds: 10 * 365 * 86_400,
  maxWebhooks: 20,
} as const;

export interface PreparedKey {
  parsed: ParsedPublicKey;
  name: string | null;
  externalId: string | null;
}

/** What the input changes, with keys parsed and the expiry resolved to a time. */
export interface PreparedSettings {
  fields: Partial<{
    externalId: string | null;
    matchAllKeys: boolean;
    maxAttempts: number;
    multiConnection: boolean;
    multiKey: boolean;
    mustConfirm: boolean;
    sshBanner: string | null;
    sshMessage: string | null;
    expiredAt: Date | null;
  }>;
  keys: PreparedKey[] | null;
  webhooks: WebhookSettings[];
}

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Lengths count characters (code points), as JSON Schema and MySQL's utf8mb4 columns do. */
function textProblems(value: string, limit: number): string[] {
  const problems: string[] = [];
  if ([...value].length > limit) problems.push(`expected length <= ${limit}`);
  if (value.includes("\0")) problems.push("must not contain NUL characters");
  // A lone surrogate cannot be stored as UTF-8: MariaDB would refuse the row.
  if (UNPAIRED_SURROGATE.test(value)) problems.push("must be valid Unicode text");
  return problems;
}

/** Checks every rule of a create or update input; all violations are reported together with their paths. */
export function prepareSessionInput(
  kind: SessionKind,
  input: SessionInput,
  mode: "create" | "update",
  at: Date,
): PreparedSettings {
  return checkInput(kind, input, mode, at);
}

/**
 * An input an adapter checks only partly: a `null` item of `keys` or `webhooks` stands for an item whose
 * shape the adapter already reported, so it is skipped without shifting the other items' paths.
 */
export type PartlyCheckedSessionInput = Omit<SessionInput, "keys" | "webhooks"> & {
  keys?: Array<KeyInput | null> | null;
  webhooks?: Array<WebhookInput | null> | null;
};

function checkInput(
  kind: SessionKind,
  input: PartlyCheckedSessionInput,
  mode: "create" | "update",
  at: Date,
): PreparedSettings {
  const errors: FieldError[] = [];
  const fields: PreparedSettings["fields"] = {};

  const text = (field: "externalId" | "sshBanner" | "sshMessage", name: string, limit: number) => {
    const value = input[field];
    if (value === undefined) return;
    if (value !== null) errors.push(...textProblems(value, limit).map((message) => ({ path: [name], message, value })));
    fields[field] = value;
  };
  text("externalId", "external_id", SESSION_LIMITS.externalIdLength);
  text("sshBanner", "ssh_banner", SESSION_LIMITS.textLength);
  text("sshMessage", "ssh_message", SESSION_LIMITS.textLength);

  for (const [field, name] of [
    ["matchAllKeys", "match_all_keys"],
    ["multiConnection", "multi_connection"],
    ["multiKey", "multi_key"],
    ["mustConfirm", "must_confirm"],
  ] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (kind === "collect" && field === "matchAllKeys") {
      errors.push({ path: [name], message: "unexpected property", value });
      continue;
    }
    fields[field] = value ?? false;
  }

  if (input.maxAttempts !== undefined) {
    if (kind === "collect") {
      errors.push({ path: ["max_attempts"], message: "unexpected property", value: input.maxAttempts });
    } else {
      const value = input.maxAttempts ?? 1;
      if (!Number.isInteger(value) || value < 1 || value > SESSION_LIMITS.maxAttempts) {
        errors.push({ path: ["max_attempts"], message: `expected integer between 1 and ${SESSION_LIMITS.maxAttempts}`, value });
      }
      fields.maxAttempts = value;
    }
  }

  const hasTimeout = input.timeout !== undefined && input.timeout !== null;
  const hasExpiredAt = input.expiredAt !== undefined && input.expiredAt !== null;
  if (hasTimeout) {
    const timeout = input.timeout as number;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > SESSION_LIMITS.maxTimeoutSeconds) {
      errors.push({ path: ["timeout"], message: `expected integer between 1 and ${SESSION_LIMITS.maxTimeoutSeconds}`, value: timeout });
    } else {
      fields.expiredAt = new Date(at.getTime() + timeout * 1000);
    }
  }
  if (hasExpiredAt) {
    const expiredAt = input.expiredAt as Date;
    if (Number.isNaN(expiredAt.getTime())) {
      errors.push({ path: ["expired_at"], message: "expected a date-time", value: input.expiredAt });
    } else if (expiredAt.getTime() <= at.getTime()) {
      errors.push({ path: ["expired_at"], message: "must be in the future", value: expiredAt.toISOString() });
    } else {
      fields.expiredAt = expiredAt;
    }
  }
  if (!hasTimeout && !hasExpiredAt && (input.timeout === null || input.expiredAt === null)) fields.expiredAt = null;

  const keys = prepareKeys(kind, input.keys, mode, errors);
  const webhooks = prepareWebhooks(kind, input.webhooks, errors);

  if (errors.length > 0) throw DomainError.invalid(errors);
  if (hasTimeout && hasExpiredAt) throw new DomainError("BAD_REQUEST", "Cannot use both timeout and expired_at");
  return { fields, keys, webhooks };
}

/**
 * The rule violations of an input, without throwing: lets an adapter that already found shape errors in
 * some fields report the rule errors of the others in the same answer.
 */
export function sessionRuleErrors(
  kind: SessionKind,
  input: PartlyCheckedSessionInput,
  mode: "create" | "update",
  at: Date,
): FieldError[] {
  try {
    checkInput(kind, input, mode, at);
    return [];
  } catch (error) {
    if (error instanceof DomainError && error.code === "INVALID_INPUT") return [...error.errors];
    if (error instanceof DomainError) return [];
    throw error;
  }
}

function prepareKeys(
  kind: SessionKind,
  keys: Array<KeyInput | null> | null | undefined,
  mode: "create" | "update",
  errors: FieldError[],
): PreparedKey[] | null {
  if (kind === "collect") {
    if (keys !== undefined) errors.push({ path: ["keys"], message: "unexpected property", value: keys });
    return null;
  }
  if (keys === undefined && mode === "update") return null;
  if (!keys || keys.length < SESSION_LIMITS.minKeys || keys.length > SESSION_LIMITS.maxKeys) {
    errors.push({
      path: ["keys"],
      message: `expected between ${SESSION_LIMITS.minKeys} and ${SESSION_LIMITS.maxKeys} keys`,
      value: keys ? keys.length : keys,
    });
    return null;
  }
  const seen = new Map<string, number>();
  const prepared: PreparedKey[] = [];
  keys.forEach((key, index) => {
    if (key === null) return;
    for (const field of ["name", "externalId"] as const) {
      const value = key[field];
      if (value === undefined || value === null) continue;
      const name = field === "name" ? "name" : "external_id";
      for (const message of textProblems(value, SESSION_LIMITS.keyNameLength)) {
        errors.push({ path: ["keys", index, name], message, value });
      }
    }
    try {
      const parsed = parsePublicKey(key.publicKey);
      const earlier = seen.get(parsed.sha256);
      if (earlier !== undefined) {
        errors.push({
          path: ["keys", index, "public_key"],
          message: `duplicate key: the same key as keys[${earlier}]`,
          value: key.publicKey,
        });
        return;
      }
      seen.set(parsed.sha256, index);
      prepared.push({ parsed, name: key.name ?? null, externalId: key.externalId ?? null });
    } catch (error) {
      if (!(error instanceof PublicKeyError)) throw error;
      errors.push({ path: ["keys", index, "public_key"], message: error.message, value: key.publicKey });
    }
  });
  return prepared;
}

function prepareWebhooks(
  kind: SessionKind,
  webhooks: Array<WebhookInput | null> | null | undefined,
  errors: FieldError[],
): WebhookSettings[] {
  if (!webhooks) return [];
  if (webhooks.length > SESSION_LIMITS.maxWebhooks) {
    errors.push({ path: ["webhooks"], message: `expected at most ${SESSION_LIMITS.maxWebhooks} webhooks`, value: webhooks.length });
    return [];
  }
  return webhooks.flatMap((input, index) => {
    if (input === null) return [];
    const settings = withWebhookDefaults(input);
    errors.push(...webhookErrors(settings, kind, ["webhooks", index]));
    return [settings];
  });
}
