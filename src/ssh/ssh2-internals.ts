// The only place that reaches into ssh2's internals. Written against ssh2 1.17.0 (pinned exactly in
// package.json): `Connection._protocol`, `Connection._sock`, Protocol's `_packetRW` writer and `sendPacket`
// from lib/protocol/utils.js. A test fails if the installed ssh2 is another version.
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import type { Connection } from "ssh2";

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

/** The socket a server-side connection runs on: the one our accept loop handed to ssh2. */
export function socketOf(connection: Connection): Socket {
  return (connection as unknown as ConnectionInternals)._sock;
}
