import { createRequire } from "node:module";
import net from "node:net";
import ssh2, { type AnyAuthMethod } from "ssh2";
import { MESSAGE, sshString, uint32 } from "./ssh-packets.js";

const { Client } = ssh2;

/** A seeded generator (mulberry32): a failing run repeats with the same FUZZ_SEED. */
export class Random {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let value = this.state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  below(limit: number): number {
    return Math.floor(this.next() * limit);
  }

  bytes(length: number): Buffer {
    return Buffer.from(Array.from({ length }, () => this.below(256)));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** One to four mutations: bit flips, overwritten bytes, cuts, inserted or repeated runs, a length field gone wild. */
export function mutate(input: Buffer, random: Random): Buffer {
  let data = Buffer.from(input);
  for (let round = 1 + random.below(4); round > 0; round--) {
    const at = data.length === 0 ? 0 : random.below(data.length);
    switch (random.below(6)) {
      case 0:
        if (data.length > 0) data[at] = data[at]! ^ (1 << random.below(8));
        break;
      case 1:
        if (data.length > 0) data[at] = random.below(256);
        break;
      case 2:
        data = data.subarray(0, at);
        break;
      case 3:
        data = Buffer.concat([data.subarray(0, at), random.bytes(1 + random.below(64)), data.subarray(at)]);
        break;
      case 4:
        data = Buffer.concat([data.subarray(0, at), data.subarray(at, at + 1 + random.below(256)), data.subarray(at)]);
        break;
      default:
        if (data.length >= at + 4) data.writeUInt32BE(random.pick([0, 1, 5, 0x7fffffff, 0xffffffff, random.below(70000)]), at);
    }
  }
  return data;
}

/** Sends the bytes in a few pieces, waits up to `lingerMs` for the server, then goes away. */
export async function fuzzRawConnection(port: number, bytes: Buffer, random: Random, lingerMs: number): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", resolve).once("error", () => resolve()));
  let offset = 0;
  while (offset < bytes.length && !socket.destroyed) {
    const piece = 1 + random.below(bytes.length - offset);
    socket.write(bytes.subarray(offset, offset + piece));
    offset += piece;
    if (random.below(2) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, lingerMs))]);
  socket.destroy();
}

/** Payloads a client may send after the key exchange, each mutated or random, for the server to parse. */
export function postKexPayload(random: Random, username: string, keyBlob: Buffer): Buffer {
  const publicKeyRequest = (signature: boolean) =>
    Buffer.concat([
      Buffer.of(MESSAGE.USERAUTH_REQUEST),
      sshString(username),
      sshString("ssh-connection"),
      sshString("publickey"),
      Buffer.of(signature ? 1 : 0),
      sshString(random.pick(["ssh-ed25519", "ssh-rsa", "rsa-sha2-256", "ecdsa-sha2-nistp256", "sk-ssh-ed25519@openssh.com"])),
      sshString(random.below(2) === 0 ? keyBlob : random.bytes(random.below(600))),
      ...(signature ? [sshString(Buffer.concat([sshString("ssh-ed25519"), sshString(random.bytes(64))]))] : []),
    ]);
  const templates = [
    () => publicKeyRequest(false),
    () => publicKeyRequest(true),
    () => Buffer.concat([Buffer.of(MESSAGE.USERAUTH_REQUEST), sshString(username), sshString("ssh-connection"), sshString(random.pick(["none", "password", "keyboard-interactive", "hostbased", "gssapi-with-mic", ""]))]),
    () => Buffer.concat([Buffer.of(MESSAGE.SERVICE_REQUEST), sshString(random.pick(["ssh-userauth", "ssh-connection", "x".repeat(random.below(3000))]))]),
    () => Buffer.concat([Buffer.of(MESSAGE.CHANNEL_OPEN), sshString(random.pick(["session", "direct-tcpip", "x11", "auth-agent@openssh.com"])), uint32(random.below(10)), uint32(random.below(2 ** 31)), uint32(random.below(40000))]),
    () => Buffer.concat([Buffer.of(MESSAGE.CHANNEL_REQUEST), uint32(random.below(4)), sshString(random.pick(["shell", "exec", "pty-req", "env", "subsystem"])), Buffer.of(1)]),
    () => Buffer.concat([Buffer.of(MESSAGE.GLOBAL_REQUEST), sshString(random.pick(["tcpip-forward", "keepalive@openssh.com", "no-more-sessions@openssh.com"])), Buffer.of(1)]),
    () => Buffer.concat([Buffer.of(MESSAGE.DISCONNECT), uint32(random.below(20)), sshString(random.bytes(random.below(100)))]),
    () => Buffer.concat([Buffer.of(MESSAGE.KEXINIT), random.bytes(16 + random.below(300))]),
    () => Buffer.concat([Buffer.of(random.below(256)), random.bytes(random.below(512))]),
  ];
  const payload = random.pick(templates)();
  return random.below(3) === 0 ? payload : mutate(payload, random);
}

interface PacketWriter {
  allocStart: number;
  alloc(payloadLength: number): Buffer;
  finalize(packet: Buffer): Buffer;
}

type SendPacket = (protocol: unknown, packet: Buffer) => boolean;
const { sendPacket } = createRequire(import.meta.url)("ssh2/lib/protocol/utils.js") as { sendPacket: SendPacket };

/** Writes each payload as one encrypted packet through ssh2 1.17's packet writer, all within this tick. */
function sendPayloads(client: InstanceType<typeof Client>, payloads: Buffer[]): void {
  const protocol = (client as unknown as { _protocol: { _packetRW: { write: PacketWriter } } })._protocol;
  for (const payload of payloads) {
    const writer = protocol._packetRW.write;
    const packet = writer.alloc(payload.length);
    payload.copy(packet, writer.allocStart);
    sendPacket(protocol, writer.finalize(packet));
  }
}

/**
 * An ssh2 client that completes the key exchange, then, instead of authenticating, sends the payloads given as
 * encrypted packets (through ssh2 1.17's packet writer) and goes away after `lingerMs`.
 */
export function fuzzAfterKeyExchange(port: number, username: string, payloads: Buffer[], lingerMs: number): Promise<void> {
  return new Promise((resolve) => {
    const client = new Client();
    const sendAll = () => {
      try {
        sendPayloads(client, payloads);
      } catch {
        // The server hung up halfway: what it got is the test.
      }
      setTimeout(() => client.end(), lingerMs);
    };
    // Called once the server accepted the userauth service: the client sends nothing of its own from here.
    const authHandler = (_methods: unknown, _partial: boolean, _next: (method: AnyAuthMethod) => void) => sendAll();
    client.on("error", () => undefined);
    client.on("close", () => resolve());
    client.connect({ host: "127.0.0.1", port, username, authHandler, readyTimeout: 10_000 });
  });
}

/** How a pipelined burst ended: the reason code of the server's DISCONNECT, if one came, and whether the client gave up waiting. */
export interface PipelineOutcome {
  disconnectReason: number | null;
  timedOut: boolean;
}

type MessageHandlers = Record<string, (...args: unknown[]) => void>;

/**
 * An ssh2 client that completes the key exchange, then sends the payloads once, as one write (the server reads
 * them all before it answers any; separate writes would go out as separate segments, Nagle holding all but the
 * first until the server's ACK), and waits up to `timeoutMs` for the server to end the connection.
 */
export function pipelineAfterKeyExchange(port: number, username: string, payloads: Buffer[], timeoutMs: number): Promise<PipelineOutcome> {
  return new Promise((resolve) => {
    const client = new Client();
    const socket = net.connect(port, "127.0.0.1");
    const outcome: PipelineOutcome = { disconnectReason: null, timedOut: false };
    let timer: NodeJS.Timeout | undefined;
    // Called once the server accepted the userauth service; the client sends nothing of its own from here.
    const authHandler = (_methods: unknown, _partial: boolean, _next: (method: AnyAuthMethod) => void) => {
      const handlers = (client as unknown as { _protocol: { _handlers: MessageHandlers } })._protocol._handlers;
      const disconnected = handlers.DISCONNECT!;
      // The answers are to requests ssh2's client did not make: it would fail on them, and end the connection itself.
      handlers.USERAUTH_FAILURE = () => undefined;
      handlers.DISCONNECT = (...args: unknown[]) => {
        outcome.disconnectReason = args[1] as number;
        disconnected(...args);
      };
      socket.cork();
      sendPayloads(client, payloads);
      socket.uncork();
      timer = setTimeout(() => {
        outcome.timedOut = true;
        client.end();
      }, timeoutMs);
    };
    client.on("error", () => undefined);
    client.on("close", () => {
      clearTimeout(timer);
      resolve(outcome);
    });
    client.connect({ sock: socket, username, authHandler, readyTimeout: 10_000 });
  });
}
