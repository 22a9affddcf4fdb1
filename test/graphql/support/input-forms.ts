import type { SessionInput } from "../../../src/services/session-input.js";

/** A GraphQL mutation input as plain JSON, the way a test writes it (enum names, header lists, ISO dates). */
export type GraphqlInput = Record<string, unknown>;

interface GraphqlWebhook {
  headers?: Array<{ name: string; values: string[] }>;
  method?: string;
  events?: string[];
  [field: string]: unknown;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function webhookSettings(webhook: GraphqlWebhook) {
  const { headers, method, events, ...rest } = webhook;
  return {
    ...rest,
    ...(headers === undefined ? {} : { headers: Object.fromEntries(headers.map((header) => [header.name, header.values])) }),
    ...(method === undefined ? {} : { method: method.toLowerCase() }),
    ...(events === undefined ? {} : { events: events.map((event) => event.toLowerCase()) }),
  };
}

function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [snake(key), key === "headers" ? inner : snakeKeys(inner)]));
}

/** The same input as a REST body: snake_case names, `{name: [values]}` headers, lowercase enum values. */
export function restBodyOf(input: GraphqlInput): Record<string, unknown> {
  const webhooks = input.webhooks as GraphqlWebhook[] | null | undefined;
  return snakeKeys({ ...input, ...(webhooks ? { webhooks: webhooks.map(webhookSettings) } : {}) }) as Record<string, unknown>;
}

/** The same input as the sessions service takes it, for the DomainError both APIs render. */
export function serviceInputOf(input: GraphqlInput): SessionInput {
  const webhooks = input.webhooks as GraphqlWebhook[] | null | undefined;
  const expiredAt = input.expiredAt as string | null | undefined;
  return {
    ...input,
    ...(webhooks ? { webhooks: webhooks.map(webhookSettings) } : {}),
    ...(typeof expiredAt === "string" ? { expiredAt: new Date(expiredAt) } : {}),
  } as SessionInput;
}
