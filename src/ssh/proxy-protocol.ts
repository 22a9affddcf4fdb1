import { BlockList, isIP, isIPv4, isIPv6, type Socket } from "node:net";

// The PROXY protocol (HAProxy, versions 1 and 2): a load balancer's first bytes on a connection name the
// client it forwards. https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt

const V1_PREFIX = Buffer.from("PROXY ", "latin1");
/** A v1 header is at most 107 bytes, CRLF included (section 2.1). */
const V1_MAX_BYTES = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
/** Addresses (216 bytes at most, for UNIX) plus TLVs; real balancers send far less. Bounds the bytes held per socket. */
const V2_MAX_LENGTH = 2048;

export type ProxyHeader =
  | { state: "incomplete" }
  | { state: "invalid"; reason: string }
  /** `sourceAddress` is null for a balancer's own connection (v2 LOCAL, v1 UNKNOWN, no IP family). */
  | { state: "complete"; length: number; sourceAddress: string | null };

/** Parses the header at the start of `data`: complete (with its length), not yet complete, or invalid. */
export function parseProxyHeader(data: Buffer): ProxyHeader {
  if (startsWithPrefixOf(data, V2_SIGNATURE)) return parseV2(data);
  if (startsWithPrefixOf(data, V1_PREFIX)) return parseV1(data);
  return { state: "invalid", reason: "no PROXY protocol header" };
}

/** Whether data opens like a PROXY header (an SSH client starts with `SSH-`): refused from untrusted peers. */
export function looksLikeProxyHeader(data: Buffer): boolean {
  return data.length > 0 && (startsWithPrefixOf(data, V2_SIGNATURE) || startsWithPrefixOf(data, V1_PREFIX));
}

function parseV1(data: Buffer): ProxyHeader {
  const end = data.indexOf("\r\n", 0, "latin1");
  if (end < 0) return data.length >= V1_MAX_BYTES ? { state: "invalid", reason: "v1 header longer than 107 bytes" } : { state: "incomplete" };
  if (end + 2 > V1_MAX_BYTES) return { state: "invalid", reason: "v1 header longer than 107 bytes" };
  const fields = data.toString("latin1", 0, end).split(" ");
  if (fields[1] === "UNKNOWN") return { state: "complete", length: end + 2, sourceAddress: null };
  if (fields.length !== 6) return { state: "invalid", reason: "v1 header does not have 6 fields" };
  const [, protocol, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const isAddress = protocol === "TCP4" ? isIPv4 : protocol === "TCP6" ? isIPv6 : null;
  if (isAddress === null) return { state: "invalid", reason: `v1 protocol "${protocol.slice(0, 16)}" is not TCP4, TCP6 or UNKNOWN` };
  if (!isAddress(source) || !isAddress(destination)) return { state: "invalid", reason: `v1 addresses are not ${protocol} addresses` };
  if (!isPort(sourcePort) || !isPort(destinationPort)) return { state: "invalid", reason: "v1 ports are not ports" };
  return { state: "complete", length: end + 2, sourceAddress: canonicalAddress(source) };
}

function parseV2(data: Buffer): ProxyHeader {
  if (data.length < V2_FIXED_BYTES) return { state: "incomplete" };
  const versionAndCommand = data[12]!;
  if (versionAndCommand >> 4 !== 2) return { state: "invalid", reason: `v2 version ${versionAndCommand >> 4} is not 2` };
  const command = versionAndCommand & 0x0f;
  if (command > 1) return { state: "invalid", reason: `v2 command ${command} is neither LOCAL nor PROXY` };
  const addressLength = data.readUInt16BE(14);
  if (addressLength > V2_MAX_LENGTH) return { state: "invalid", reason: `v2 header longer than ${V2_MAX_LENGTH} bytes` };
  const length = V2_FIXED_BYTES + addressLength;
  if (data.length < length) return { state: "incomplete" };
  if (command === 0) return { state: "complete", length, sourceAddress: null }; // LOCAL: the balancer's own check
  const family = data[13]! >> 4;
  const addresses = data.subarray(V2_FIXED_BYTES, length);
  if (family === 1) {
    if (addresses.length < 12) return { state: "invalid", reason: "v2 IPv4 address block is shorter than 12 bytes" };
    return { state: "complete", length, sourceAddress: [...addresses.subarray(0, 4)].join(".") };
  }
  if (family === 2) {
    if (addresses.length < 36) return { state: "invalid", reason: "v2 IPv6 address block is shorter than 36 bytes" };
    return { state: "complete", length, sourceAddress: ipv6Text(addresses.subarray(0, 16)) };
  }
  if (family === 0 || family === 3) return { state: "complete", length, sourceAddress: null }; // UNSPEC, UNIX
  return { state: "invalid", reason: `v2 address family ${family} is unknown` };
}

/**
 * Reads a PROXY header off a socket that has not been handed to ssh2 yet. Bytes after the header are put back,
 * and the socket is left paused for ssh2 to take over. Resolves with the header, or `closed` when the socket
 * closes first; the caller's deadlines bound the wait.
 */
export function readProxyHeader(socket: Socket): Promise<Exclude<ProxyHeader, { state: "incomplete" }> | { state: "closed" }> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (result: Exclude<ProxyHeader, { state: "incomplete" }> | { state: "closed" }) => {
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const header = parseProxyHeader(received);
      if (header.state === "incomplete") return;
      finish(header);
      if (header.state === "complete" && received.length > header.length) socket.unshift(received.subarray(header.length));
    };
    const onClose = () => finish({ state: "closed" });
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

/** The peers allowed to send a PROXY header (SSH_PROXY_TRUSTED): addresses and CIDR ranges. */
export class ProxySources {
  private readonly trusted = new BlockList();

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const [address = "", prefix] = cidr.split("/");
      const type = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
  }

  isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  }
}

function startsWithPrefixOf(data: Buffer, signature: Buffer): boolean {
  const length = Math.min(data.length, signature.length);
  return length > 0 && data.subarray(0, length).equals(signature.subarray(0, length));
}

function isPort(text: string): boolean {
  return /^(0|[1-9][0-9]{0,4})$/.test(text) && Number(text) <= 65535;
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let offset = 0; offset < 16; offset += 2) groups.push(bytes.readUInt16BE(offset).toString(16));
  return canonicalAddress(groups.join(":"));
}

/**
 * Canonical text (`2001:db8::1`), as a socket reports addresses; an IPv4-mapped address (`::ffff:10.0.0.1`) reads
 * as IPv4, as the accept loop records it.
 */
function canonicalAddress(address: string): string {
  if (!isIPv6(address)) return address;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}
