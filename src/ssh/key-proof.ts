import ssh2, { type PublicKeyAuthContext } from "ssh2";
import { parsePublicKeyBlob, PublicKeyError, type ParsedPublicKey } from "../domain/public-keys.js";

const { utils } = ssh2;

/**
 * The key of a public-key request, when it is one the gateway can record: ed25519, ecdsa or RSA of 2048
 * bits or more. Security keys (`sk-*`) and certificates read as null: ssh2 cannot check their signatures.
 */
export function offeredKey(request: PublicKeyAuthContext): ParsedPublicKey | null {
  try {
    const key = parsePublicKeyBlob(request.key.data);
    return algorithmFamily(request.key.algo) === key.algorithm ? key : null;
  } catch (error) {
    if (error instanceof PublicKeyError) return null;
    throw error;
  }
}

/** Whether the request carries a valid signature, by the offered key, over this connection's session id. */
export function hasValidSignature(request: PublicKeyAuthContext): boolean {
  if (!request.signature || !request.blob) return false;
  const key = utils.parseKey(request.key.data);
  if (key instanceof Error || Array.isArray(key)) return false;
  // ssh2 typings say boolean; 1.17.0 returns an Error for a signature it cannot decode.
  const verified: unknown = key.verify(request.blob, request.signature, request.hashAlgo);
  return verified === true;
}

/** ssh2 reports `rsa-sha2-256/512` requests as `ssh-rsa`; the key blob must be of the family the client named. */
function algorithmFamily(algorithm: string): string {
  return algorithm === "rsa-sha2-256" || algorithm === "rsa-sha2-512" ? "ssh-rsa" : algorithm;
}
