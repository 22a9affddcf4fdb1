import { generateKeyPairSync } from "node:crypto";
import { parsePublicKey } from "../../../src/domain/public-keys.js";
import type { Services } from "../../../src/services/index.js";

function sshString(data: Buffer | string): Buffer {
  const body = Buffer.from(data);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  return Buffer.concat([length, body]);
}

/** A fresh ed25519 public key as an OpenSSH `authorized_keys` line. */
export function ed25519KeyLine(comment = "person@laptop"): string {
  const { publicKey } = generateKeyPairSync("ed25519");
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url");
  return `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(raw)]).toString("base64")} ${comment}`;
}

/**
 * A connection with proven keys, recorded through the same service calls the SSH server makes, so GraphQL
 * tests see connections without running an SSH client.
 */
export async function recordConnection(
  services: Services,
  sessionId: string,
  proven: Array<{ keyLine: string; sessionKeyId: string | null }>,
): Promise<string> {
  const opened = await services.sshLogins.openConnection(sessionId, "203.0.113.7", "SSH-2.0-OpenSSH_9.6");
  if (!opened.connectionId) throw new Error(`connection refused: ${opened.refusal}`);
  const keys = proven.map(({ keyLine, sessionKeyId }) => ({ sessionKeyId, key: parsePublicKey(keyLine) }));
  if (keys.length > 0) await services.sshLogins.recordProof(opened.connectionId, sessionId, keys);
  return opened.connectionId;
}
