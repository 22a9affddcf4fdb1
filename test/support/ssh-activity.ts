import { generateKeyPairSync } from "node:crypto";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import type { Services } from "../../src/services/index.js";
import { sshString } from "../ssh/support/ssh-packets.js";

/** A fresh ed25519 public key as an OpenSSH `authorized_keys` line. */
export function ed25519KeyLine(comment = "person@laptop"): string {
  // Encoded by the generation itself: a JWK export of a freshly generated key can deadlock Node 20 (x25519PublicBytes).
  const { publicKey } = generateKeyPairSync("ed25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const raw = publicKey.subarray(-32);
  return `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(raw)]).toString("base64")} ${comment}`;
}

/**
 * What an SSH login records, without an SSH client: a connection to the session (the service's openConnection,
 * which shares its recording with the SSH server's openLogin) and keys whose signatures were checked and that
 * satisfy the session (recordProof, as the SSH server calls it). Answers the connection's id.
 */
export async function recordConnection(
  services: Services,
  sessionId: string,
  proven: Array<{ keyLine: string; sessionKeyId: string | null }> = [],
): Promise<string> {
  const opened = await services.sshLogins.openConnection(sessionId, "203.0.113.7", "SSH-2.0-OpenSSH_9.6");
  if (!opened.connectionId) throw new Error(`connection refused: ${opened.refusal}`);
  const keys = proven.map(({ keyLine, sessionKeyId }) => ({ sessionKeyId, key: parsePublicKey(keyLine) }));
  if (keys.length > 0) await services.sshLogins.recordProof(opened.connectionId, sessionId, keys);
  return opened.connectionId;
}
