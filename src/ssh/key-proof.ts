import { type KeyObject, verify } from "node:crypto";
import type { PublicKeyAuthContext } from "ssh2";
import { parseVerifiablePublicKeyBlob, PublicKeyError, type ParsedPublicKey } from "../domain/public-keys.js";
import { defaultHashOf } from "./signing-key.js";

/** A key the gateway can prove and record, with the key object its signatures are checked with. */
export interface ProvableKey {
  parsed: ParsedPublicKey;
  keyObject: KeyObject;
}

/**
 * The keys offered on one connection, each parsed once: a key is offered, then signed with, in two requests.
 * Ed25519, ecdsa and RSA of 2048 bits or more are provable; security keys (`sk-*`) and certificates are not,
 * since ssh2 cannot check their signatures.
 */
export class OfferedKeys {
  private readonly parsed = new Map<string, ProvableKey | null>();

  provable(request: PublicKeyAuthContext): ProvableKey | null {
    const line = offeredKeyLine(request);
    let key = this.parsed.get(line);
    if (key === undefined) {
      key = parseProvable(request);
      this.parsed.set(line, key);
    }
    return key;
  }
}

/** ssh2 hands over what it could read of a malformed request: a key without its algorithm or its bytes. */
export function isReadable(request: PublicKeyAuthContext): boolean {
  const key: Partial<PublicKeyAuthContext["key"]> | undefined = request.key;
  return typeof key?.algo === "string" && Buffer.isBuffer(key.data);
}

/**
 * The offered key in the one-line form configured keys are stored in (`<algorithm> <base64>`), without parsing
 * it: a verify session answers an unconfigured key at once.
 */
export function offeredKeyLine(request: PublicKeyAuthContext): string {
  return `${algorithmFamily(request.key.algo)} ${request.key.data.toString("base64")}`;
}

/**
 * Whether the request carries a valid signature, by the offered key, over this connection's session id. Checked on
 * libuv's thread pool: an ed25519 check is about half of a handshake's own cryptography, and off the event loop
 * it runs on another core while the loop serves other connections.
 */
export function hasValidSignature(request: PublicKeyAuthContext, key: ProvableKey): Promise<boolean> {
  const { signature, blob } = request;
  if (!signature || !blob) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      // ssh2 hands over the signature already in the form node verifies (DER for ecdsa).
      verify(request.hashAlgo ?? defaultHashOf(key.parsed.algorithm), blob, key.keyObject, signature, (error, valid) => resolve(!error && valid));
    } catch {
      resolve(false);
    }
  });
}

function parseProvable(request: PublicKeyAuthContext): ProvableKey | null {
  try {
    const key = parseVerifiablePublicKeyBlob(request.key.data);
    return algorithmFamily(request.key.algo) === key.parsed.algorithm ? key : null;
  } catch (error) {
    if (error instanceof PublicKeyError) return null;
    throw error;
  }
}

/** ssh2 reports `rsa-sha2-256/512` requests as `ssh-rsa`; the key blob must be of the family the client named. */
function algorithmFamily(algorithm: string): string {
  return algorithm === "rsa-sha2-256" || algorithm === "rsa-sha2-512" ? "ssh-rsa" : algorithm;
}
