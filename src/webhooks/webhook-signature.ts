import { createHmac } from "node:crypto";

const SECRET_PREFIX = "whsec_";

export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * Standard Webhooks signing: HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the secret's base64 bytes,
 * sent as `v1,<base64>`. The id is the invocation id, the same on every retry so receivers can deduplicate.
 */
export function signatureHeaders(secret: string, messageId: string, sentAt: Date, body: string): SignatureHeaders {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, "base64");
  const timestamp = Math.floor(sentAt.getTime() / 1000).toString();
  const signature = createHmac("sha256", key).update(`${messageId}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": messageId, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}
