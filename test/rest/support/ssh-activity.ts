import { parsePublicKey } from "../../../src/domain/public-keys.js";
import type { Services } from "../../../src/services/index.js";

/**
 * What the SSH server records, done through the same service calls it makes: a connection, and keys whose
 * signatures it checked and that satisfy the session. Lets REST tests see connections without an SSH client.
 */
export async function recordConnection(
  services: Services,
  sessionId: string,
  proven: Array<{ keyLine: string; sessionKeyId: string | null }> = [],
): Promise<string> {
  const opened = await services.sshLogins.openConnection(sessionId, "203.0.113.7", "SSH-2.0-OpenSSH_9.6");
  if (!opened.connectionId) throw new Error(`connection refused: ${opened.refusal}`);
  if (proven.length > 0) {
    const keys = proven.map(({ keyLine, sessionKeyId }) => ({ sessionKeyId, key: parsePublicKey(keyLine) }));
    await services.sshLogins.recordProof(opened.connectionId, sessionId, keys);
  }
  return opened.connectionId;
}
