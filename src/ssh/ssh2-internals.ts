// The only place that reaches into ssh2's internals. Written against ssh2 1.17.0 (pinned exactly in
// package.json): `Connection._protocol`, `Connection._sock`, Protocol's `_packetRW` writer and `_kex`,
// `sendPacket` from lib/protocol/utils.js, and the methods of lib/protocol/kex.js's Curve25519Exchange.
// A test fails if the installed ssh2 is another version.
import { createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { Client, Connection } from "ssh2";

const require = createRequire(import.meta.url);

export const SSH2_VERSION_WRITTEN_AGAINST = "1.17.0";
export const installedSsh2Version: string = (require("ssh2/package.json") as { version: string }).version;

const SSH_MSG_USERAUTH_BANNER = 53;

interface PacketWriter {
  allocStart: number;
  alloc(payloadLength: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

interface ProtocolInternals {
  _packetRW: { write: PacketWriter };
}

interface ConnectionInternals {
  _protocol: ProtocolInternals;
  _sock: Socket;
}

type SendPacket = (protocol: ProtocolInternals, packet: Buffer) => boolean;
const { sendPacket } = require("ssh2/lib/protocol/utils.js") as { sendPacket: SendPacket };

/**
 * Sends SSH_MSG_USERAUTH_BANNER (RFC 4252 §5.4: string message, string language tag) on a server-side
 * connection. ssh2's own `banner` option is one static text sent before the user name is known.
 * `sendPacket` queues the packet while a key re-exchange is in progress, as ssh2 does for its own packets.
 */
export function sendAuthBanner(connection: Connection, text: string): void {
  const protocol = (connection as unknown as ConnectionInternals)._protocol;
  const message = Buffer.from(text, "utf8");
  const writer = protocol._packetRW.write;
  let offset = writer.allocStart;
  const packet = writer.alloc(1 + 4 + message.length + 4);
  packet[offset] = SSH_MSG_USERAUTH_BANNER;
  packet.writeUInt32BE(message.length, ++offset);
  message.copy(packet, (offset += 4));
  packet.writeUInt32BE(0, offset + message.length); // empty language tag
  sendPacket(protocol, writer.finalize(packet));
}

/**
 * ssh2 answers pipelined authentication requests out of order: while one is being decided it holds the next ones,
 * then hands over the newest first (`pendingAuths.pop()` in lib/server.js), and its protocol layer refuses an
 * answer whose method is not that of the oldest request ("publickey" auth not in progress). The same happens when
 * ssh2 disconnects for a request with an unknown method but keeps it as the oldest one and still hands over the
 * next (the case the fuzz test found). OpenSSH waits for each answer; a client that does not cannot be answered
 * correctly. True for the error such an answer throws.
 */
export function isOutOfOrderAuthAnswer(error: unknown): boolean {
  return error instanceof Error && /^(?:"[a-z-]+" auth not in progress|No auth in progress)$/.test(error.message);
}

/** The socket a server-side connection runs on: the one our accept loop handed to ssh2. */
export function socketOf(connection: Connection): Socket {
  return (connection as unknown as ConnectionInternals)._sock;
}

/** The keys of one curve25519 exchange, as ssh2's Curve25519Exchange holds them (`_keys`). */
export interface X25519Keys {
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** X25519's base point, u = 9 (RFC 7748 §4.1): a key's public value is the agreement of its private half with it. */
const X25519_BASE_POINT = createPublicKey({
  key: { kty: "OKP", crv: "X25519", x: Buffer.concat([Buffer.of(9), Buffer.alloc(31)]).toString("base64url") },
  format: "jwk",
});

/**
 * The 32 bytes of an X25519 public key, as the key exchange sends them (RFC 8731 §3): the agreement of the private
 * key with the base point. Not `publicKey.export({ format: "jwk" })`: on Node 20 that export holds the key's lock
 * while it allocates, and a garbage collection then may free the key-generation job of the same key, whose
 * destructor waits for that lock: the event loop deadlocks (seen under load; a loop of generate and export hangs
 * within seconds). The agreement runs without allocating under the lock, and costs about 40 µs.
 */
export function x25519PublicBytes(keys: X25519Keys): Buffer {
  return diffieHellman({ privateKey: keys.privateKey, publicKey: X25519_BASE_POINT });
}

/**
 * The shared secret with the peer's 32-byte public key, as the mpint the exchange hash takes (RFC 8731 §3); an
 * Error, returned as ssh2 expects, for a key that is not 32 bytes or gives an all-zero secret.
 */
export function x25519SharedSecret(keys: X25519Keys, peerPublicKey: Buffer): Buffer | Error {
  try {
    const publicKey = createPublicKey({ key: { kty: "OKP", crv: "X25519", x: peerPublicKey.toString("base64url") }, format: "jwk" });
    return unsignedMpint(diffieHellman({ privateKey: keys.privateKey, publicKey }));
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** An unsigned big-endian number as an mpint's body: no leading zeros, and a 0x00 first when the top bit is set. */
function unsignedMpint(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length && value[start] === 0) start++;
  const magnitude = value.subarray(start);
  return (magnitude[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : Buffer.from(magnitude);
}

interface Curve25519Exchange {
  type: "25519";
  _keys: X25519Keys | null;
  /** Our public key's bytes, once computed: ssh2's client asks for them twice an exchange (its request, the hash). */
  _publicBytes?: Buffer;
  generateKeys(): void;
  getPublicKey(): Buffer;
  computeSecret(peerPublicKey: Buffer): Buffer | Error;
}

function isCurve25519Exchange(kex: unknown): kex is Curve25519Exchange {
  const candidate = kex as Partial<Curve25519Exchange> | null;
  return (
    candidate?.type === "25519" &&
    typeof candidate.generateKeys === "function" &&
    typeof candidate.getPublicKey === "function" &&
    typeof candidate.computeSecret === "function"
  );
}

let rawCurve25519Keys = false;

/** Whether curve25519 exchanges use raw keys (once the first one has run on a connection given to useRawCurve25519Keys). */
export function curve25519UsesRawKeys(): boolean {
  return rawCurve25519Keys;
}

/**
 * ssh2's curve25519 key exchange moves its keys through OpenSSL 3's DER codecs: it exports its public key as a
 * SubjectPublicKeyInfo to take the last 32 bytes, and imports the client's by building one with asn1. Those two
 * cost about 0.24 ms of a 0.4 ms exchange on the development machine. Here the client's key is read as raw bytes
 * (JWK import, 0.01 ms) and ours is taken as the agreement with the base point (0.04 ms; see x25519PublicBytes
 * for why not a JWK export). Called on each new connection (a server's, or a
 * client's once `connect` has been called) until the first curve25519 exchange is seen; its class, which ssh2
 * does not export and which both sides use, then gets these two methods for every connection.
 */
export function useRawCurve25519Keys(endpoint: Connection | Client): void {
  if (rawCurve25519Keys) return;
  const protocol = (endpoint as unknown as ConnectionInternals)._protocol as ProtocolInternals & { _kex?: unknown };
  // ssh2 assigns `_kex` once it has both KEXINITs; the first assignment puts a plain property back.
  const before = protocol._kex;
  Object.defineProperty(protocol, "_kex", {
    configurable: true,
    enumerable: true,
    get: () => before,
    set: (kex: unknown) => {
      Object.defineProperty(protocol, "_kex", { value: kex, writable: true, configurable: true, enumerable: true });
      if (!rawCurve25519Keys && isCurve25519Exchange(kex)) {
        const exchangeClass = Object.getPrototypeOf(kex) as Curve25519Exchange;
        exchangeClass.getPublicKey = function getPublicKey(this: Curve25519Exchange) {
          this.generateKeys();
          return (this._publicBytes ??= x25519PublicBytes(this._keys!));
        };
        exchangeClass.computeSecret = function computeSecret(this: Curve25519Exchange, peerPublicKey: Buffer) {
          this.generateKeys();
          return x25519SharedSecret(this._keys!, peerPublicKey);
        };
        rawCurve25519Keys = true;
      }
    },
  });
}
