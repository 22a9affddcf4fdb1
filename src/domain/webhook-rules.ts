import type { FieldError, FieldPath } from "./errors.js";
import type { SessionKind } from "./session-rules.js";

export const WEBHOOK_EVENTS: Record<SessionKind, readonly string[]> = {
  verify: ["new_connection", "verified", "failed_attempt", "status_changed"],
  collect: ["new_connection", "key_collected", "status_changed"],
};

export const WEBHOOK_METHODS = ["post", "put", "patch"] as const;
export type WebhookMethodName = (typeof WEBHOOK_METHODS)[number];

export const WEBHOOK_LIMITS = {
  retries: { minimum: 0, maximum: 20, default: 0 },
  initialBackoff: { minimum: 1, maximum: 86_400, default: 10 },
  backoffMultiplier: { minimum: 1, maximum: 10, default: 2 },
  urlLength: 2048,
  headerCount: 50,
} as const;

export interface WebhookSettings {
  url: string;
  method: WebhookMethodName;
  headers: Record<string, string[]>;
  events: string[];
  retries: number;
  initialBackoff: number;
  backoffMultiplier: number;
}

export type WebhookInput = Partial<WebhookSettings>;

/** Headers we set on every delivery; a webhook config may not replace them. */
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "transfer-encoding", "connection", "user-agent"]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Seconds before retry `attempt` (1-based) is sent: `initial_backoff * backoff_multiplier^(attempt-1)`. */
export function backoffSeconds(settings: Pick<WebhookSettings, "initialBackoff" | "backoffMultiplier">, attempt: number) {
  return settings.initialBackoff * settings.backoffMultiplier ** (attempt - 1);
}

export function withWebhookDefaults(input: WebhookInput): WebhookSettings {
  return {
    url: input.url ?? "",
    method: input.method ?? "post",
    headers: input.headers ?? {},
    events: input.events ?? [],
    retries: input.retries ?? WEBHOOK_LIMITS.retries.default,
    initialBackoff: input.initialBackoff ?? WEBHOOK_LIMITS.initialBackoff.default,
    backoffMultiplier: input.backoffMultiplier ?? WEBHOOK_LIMITS.backoffMultiplier.default,
  };
}

/** Rule checks of one complete webhook config; `path` is where it sits in the request body. */
export function webhookErrors(settings: WebhookSettings, kind: SessionKind, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const at = (field: string, message: string, value: unknown) => errors.push({ path: [...path, field], message, value });
  let url: URL | null = null;
  try {
    url = new URL(settings.url);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    at("url", "expected an absolute http or https URL", settings.url);
  } else if (settings.url.length > WEBHOOK_LIMITS.urlLength) {
    at("url", `expected length <= ${WEBHOOK_LIMITS.urlLength}`, settings.url);
  }
  if (!(WEBHOOK_METHODS as readonly string[]).includes(settings.method)) {
    at("method", `expected value to be one of "${WEBHOOK_METHODS.join(", ")}"`, settings.method);
  }
  const names = Object.keys(settings.headers);
  if (names.length > WEBHOOK_LIMITS.headerCount) at("headers", `expected at most ${WEBHOOK_LIMITS.headerCount} headers`, names.length);
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) at("headers", `"${name}" is not a valid header name`, name);
    else if (lower.startsWith("webhook-") || RESERVED_HEADERS.has(lower)) at("headers", `header "${name}" cannot be overridden`, name);
    for (const value of settings.headers[name]) {
      if (/[\r\n\0]/.test(value)) at("headers", `header "${name}" has a value with a line break`, value);
    }
  }
  settings.events.forEach((event, index) => {
    if (!WEBHOOK_EVENTS[kind].includes(event)) {
      errors.push({
        path: [...path, "events", index],
        message: `expected value to be one of "${WEBHOOK_EVENTS[kind].join(", ")}"`,
        value: event,
      });
    }
  });
  for (const field of ["retries", "initialBackoff", "backoffMultiplier"] as const) {
    const { minimum, maximum } = WEBHOOK_LIMITS[field];
    const value = settings[field];
    const snake = field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
    if (typeof value !== "number" || Number.isNaN(value) || value < minimum || value > maximum) {
      at(snake, `expected number between ${minimum} and ${maximum}`, value);
    } else if (field !== "backoffMultiplier" && !Number.isInteger(value)) {
      at(snake, "expected integer", value);
    }
  }
  return errors;
}
