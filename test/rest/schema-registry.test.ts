import { describe, expect, it } from "vitest";
import { COLLECT_STATUSES, VERIFY_STATUSES } from "../../src/domain/session-rules.js";
import { WEBHOOK_EVENTS, WEBHOOK_LIMITS, WEBHOOK_METHODS } from "../../src/domain/webhook-rules.js";
import { SchemaRegistry } from "../../src/rest/schema-registry.js";
import { SESSION_LIMITS } from "../../src/services/session-input.js";

type Properties = Record<string, Record<string, unknown>>;

describe("the stored JSON Schemas", () => {
  const schemas = SchemaRegistry.load();
  const propertiesOf = (name: string) => schemas.document(name).properties as Properties;

  it("all compile as draft 2020-12 with their references resolved", () => {
    expect(schemas.names.length).toBeGreaterThan(15);
    for (const name of schemas.names) {
      expect(schemas.document(name).$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(() => schemas.validate(name, {}, "body")).not.toThrow();
    }
  });

  it("state the same limits as the session rules, so a body the schema allows meets no surprise", () => {
    for (const name of ["VerifySessionCreate", "VerifySessionUpdate", "CollectSessionCreate", "CollectSessionUpdate"]) {
      const properties = propertiesOf(name);
      expect(properties.external_id.maxLength).toBe(SESSION_LIMITS.externalIdLength);
      expect(properties.ssh_banner.maxLength).toBe(SESSION_LIMITS.textLength);
      expect(properties.ssh_message.maxLength).toBe(SESSION_LIMITS.textLength);
      expect(properties.timeout.maximum).toBe(SESSION_LIMITS.maxTimeoutSeconds);
    }
    const verify = propertiesOf("VerifySessionCreate");
    expect([verify.keys.minItems, verify.keys.maxItems]).toEqual([SESSION_LIMITS.minKeys, SESSION_LIMITS.maxKeys]);
    expect(verify.webhooks.maxItems).toBe(SESSION_LIMITS.maxWebhooks);
    const key = propertiesOf("VerifySessionKeyCreate");
    expect([key.name.maxLength, key.external_id.maxLength]).toEqual([SESSION_LIMITS.keyNameLength, SESSION_LIMITS.keyNameLength]);
  });

  it("state the same webhook limits, methods and events as the webhook rules", () => {
    const webhook = propertiesOf("WebhookCreate");
    expect(webhook.url.maxLength).toBe(WEBHOOK_LIMITS.urlLength);
    expect(webhook.headers.maxProperties).toBe(WEBHOOK_LIMITS.headerCount);
    expect(webhook.method.enum).toEqual([...WEBHOOK_METHODS]);
    for (const [field, limits] of [
      ["retries", WEBHOOK_LIMITS.retries],
      ["initial_backoff", WEBHOOK_LIMITS.initialBackoff],
      ["backoff_multiplier", WEBHOOK_LIMITS.backoffMultiplier],
    ] as const) {
      expect([webhook[field].minimum, webhook[field].maximum, webhook[field].default]).toEqual([limits.minimum, limits.maximum, limits.default]);
    }
    const events = (webhook.events.items as { enum: string[] }).enum;
    expect([...events].sort()).toEqual([...new Set([...WEBHOOK_EVENTS.verify, ...WEBHOOK_EVENTS.collect])].sort());
  });

  it("list the statuses of each kind", () => {
    expect(propertiesOf("VerifySessionSummary").status.enum).toEqual([...VERIFY_STATUSES]);
    expect(propertiesOf("CollectSessionSummary").status.enum).toEqual([...COLLECT_STATUSES]);
  });

  it("give summaries of the two kinds the same fields except match_all_keys and max_attempts", () => {
    const verify = Object.keys(propertiesOf("VerifySessionSummary"));
    const collect = Object.keys(propertiesOf("CollectSessionSummary"));
    expect(verify.filter((field) => !collect.includes(field))).toEqual(["match_all_keys", "max_attempts"]);
    expect(collect.every((field) => verify.includes(field))).toBe(true);
  });
});
