import { generateKeyPairSync } from "node:crypto";
import { type ParsedPublicKey, parsePublicKey } from "../../../src/domain/public-keys.js";
import type { SessionKind } from "../../../src/domain/session-rules.js";
import type { WebhookInput } from "../../../src/domain/webhook-rules.js";
import type { RequestContext } from "../../../src/services/context.js";
import type { SessionInput } from "../../../src/services/session-input.js";
import type { TestGateway } from "../../support/gateway.js";

/** A fresh ed25519 public key, as the API receives it and as the SSH server would have proven it. */
export function newPublicKey(): { text: string; parsed: ParsedPublicKey } {
  const { publicKey } = generateKeyPairSync("ed25519");
  const text = publicKey.export({ type: "spki", format: "pem" }).toString();
  return { text, parsed: parsePublicKey(text) };
}

export async function contextOf(gateway: TestGateway): Promise<RequestContext> {
  const { projectId, apiKeyId } = await gateway.services.apiKeys.authenticate(gateway.apiKey);
  return { projectId, apiKeyId };
}

/** A session with the given webhooks; verify sessions get one configured key (returned with it). */
export async function createSessionWithWebhooks(
  gateway: TestGateway,
  context: RequestContext,
  kind: SessionKind,
  webhooks: WebhookInput[],
  settings: SessionInput = {},
) {
  const key = newPublicKey();
  const session = await gateway.services.sessions.create(context, kind, {
    ...(kind === "verify" ? { keys: [{ publicKey: key.text }] } : {}),
    ...settings,
    webhooks,
  });
  return { session, key };
}
