import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import ssh2, { type ParsedKey } from "ssh2";

const { utils } = ssh2;

/** The hash ssh2 signs and verifies with when the caller names none (its keyParser's defaults per key type). */
const DEFAULT_HASH: Record<string, string | null> = {
  "ssh-ed25519": null,
  "ssh-rsa": "sha1",
  "ecdsa-sha2-nistp256": "sha256",
  "ecdsa-sha2-nistp384": "sha384",
  "ecdsa-sha2-nistp521": "sha512",
};

export function defaultHashOf(keyType: string): string | null {
  return DEFAULT_HASH[keyType] ?? null;
}

/**
 * A private key parsed once for signing. ssh2 keeps a parsed key's private half as PEM text and hands that text
 * to crypto.sign, which parses it again on every signature (a quarter of a server handshake's CPU); this key
 * signs with a KeyObject made once. Everything else is ssh2's own parsed key.
 */
export function parseSigningKey(privateKeyText: string): ParsedKey {
  const parsed = utils.parseKey(privateKeyText);
  if (parsed instanceof Error) throw parsed;
  const key = Array.isArray(parsed) ? parsed[0]! : parsed;
  const pem = key.isPrivateKey() ? key.getPrivatePEM() : null;
  if (!pem) throw new Error("not a private key");
  if (!(key.type in DEFAULT_HASH)) return key;
  const privateKey = createPrivateKey(pem);
  const defaultHash = DEFAULT_HASH[key.type] ?? null;
  Object.defineProperty(key, "sign", { value: signer(privateKey, defaultHash) });
  return key;
}

/** ssh2's `sign(data, algorithm?)` contract: the signature, or the Error (returned, not thrown). */
function signer(privateKey: KeyObject, defaultHash: string | null) {
  return (data: Buffer, algorithm?: string): Buffer | Error => {
    try {
      return sign(algorithm || defaultHash, data, privateKey);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };
}
