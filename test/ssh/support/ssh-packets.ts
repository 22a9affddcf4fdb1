import { randomBytes } from "node:crypto";

/** What a client says first (RFC 4253 §4.2). */
export const CLIENT_IDENTIFICATION = "SSH-2.0-OpenSSH_9.2p1 HostileTest\r\n";

export const MESSAGE = {
  DISCONNECT: 1,
  IGNORE: 2,
  SERVICE_REQUEST: 5,
  KEXINIT: 20,
  NEWKEYS: 21,
  KEX_ECDH_INIT: 30,
  USERAUTH_REQUEST: 50,
  GLOBAL_REQUEST: 80,
  CHANNEL_OPEN: 90,
  CHANNEL_REQUEST: 98,
} as const;

/** SSH_MSG_DISCONNECT reason codes (RFC 4253 §11.1). */
export const DISCONNECT_REASON = {
  PROTOCOL_ERROR: 2,
  BY_APPLICATION: 11,
} as const;

/** An SSH string: uint32 length, then the bytes. */
export function sshString(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

export function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes;
}

/** A binary packet as sent before the first NEWKEYS, unencrypted (RFC 4253 §6). */
export function plainPacket(payload: Buffer): Buffer {
  let padding = 8 - ((5 + payload.length) % 8);
  if (padding < 4) padding += 8;
  return Buffer.concat([uint32(1 + payload.length + padding), Buffer.of(padding), payload, randomBytes(padding)]);
}

/** A client KEXINIT offering what the gateway speaks (curve25519, ed25519, chacha20/aes-gcm). */
export function kexInitPayload(): Buffer {
  const lists = [
    "curve25519-sha256,ext-info-c",
    "ssh-ed25519,rsa-sha2-512,rsa-sha2-256",
    "aes128-gcm@openssh.com,aes128-ctr",
    "aes128-gcm@openssh.com,aes128-ctr",
    "hmac-sha2-256",
    "hmac-sha2-256",
    "none",
    "none",
    "",
    "",
  ];
  return Buffer.concat([Buffer.of(MESSAGE.KEXINIT), randomBytes(16), ...lists.map((list) => sshString(list)), Buffer.of(0), uint32(0)]);
}

/** The client's half of a curve25519 exchange: its ephemeral public key (any 32 bytes parse). */
export function ecdhInitPayload(): Buffer {
  return Buffer.concat([Buffer.of(MESSAGE.KEX_ECDH_INIT), sshString(randomBytes(32))]);
}

/** Identification, KEXINIT and the ECDH init: everything a client sends before the server's reply. */
export function clientOpening(): Buffer {
  return Buffer.concat([Buffer.from(CLIENT_IDENTIFICATION, "latin1"), plainPacket(kexInitPayload()), plainPacket(ecdhInitPayload())]);
}
