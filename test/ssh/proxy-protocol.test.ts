import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProxyHeader } from "../../src/ssh/proxy-protocol.js";
import { databaseKinds } from "../support/databases.js";
import { runSsh } from "./support/openssh.js";
import { connectRaw, startOwnSshServer, type OwnSshServer } from "./support/own-ssh-server.js";
import { clientOpening } from "./support/ssh-packets.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

const V2_SIGNATURE = Buffer.from("0d0a0d0a000d0a515549540a", "hex");

function v1(source: string, protocol = source.includes(":") ? "TCP6" : "TCP4"): Buffer {
  const destination = protocol === "TCP6" ? "2001:db8::1" : "192.0.2.10";
  return Buffer.from(`PROXY ${protocol} ${source} ${destination} 51000 22\r\n`, "latin1");
}

/** A v2 PROXY (or LOCAL) header; `tlv` bytes follow the addresses, as balancers add. */
function v2(source: string | null, tlv = Buffer.alloc(0)): Buffer {
  if (source === null) return Buffer.concat([V2_SIGNATURE, Buffer.of(0x20, 0x00), Buffer.of(0, 0)]);
  const ipv6 = source.includes(":");
  const address = ipv6 ? ipv6Bytes(source) : Buffer.from(source.split(".").map(Number));
  const destination = ipv6 ? ipv6Bytes("2001:db8::1") : Buffer.of(192, 0, 2, 10);
  const block = Buffer.concat([address, destination, Buffer.of(0xc7, 0x38, 0x00, 0x16), tlv]);
  const length = Buffer.alloc(2);
  length.writeUInt16BE(block.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.of(0x21, ipv6 ? 0x21 : 0x11), length, block]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = "", tail = ""] = address.split("::");
  const groups = (text: string) => (text ? text.split(":").map((group) => parseInt(group, 16)) : []);
  const words = [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill(0), ...groups(tail)];
  return Buffer.from(words.flatMap((word: number) => [word >> 8, word & 0xff]));
}

describe("parseProxyHeader", () => {
  it("reads the client's address and the header's length from v1 and v2 headers", () => {
    expect(parseProxyHeader(v1("203.0.113.7"))).toEqual({ state: "complete", length: v1("203.0.113.7").length, sourceAddress: "203.0.113.7" });
    expect(parseProxyHeader(v1("2001:DB8:0:0::7"))).toMatchObject({ sourceAddress: "2001:db8::7" });
    expect(parseProxyHeader(v2("203.0.113.7"))).toEqual({ state: "complete", length: 28, sourceAddress: "203.0.113.7" });
    expect(parseProxyHeader(v2("2001:db8::7", Buffer.from("0300040000abcd", "hex")))).toEqual({ state: "complete", length: 59, sourceAddress: "2001:db8::7" });
    expect(parseProxyHeader(v2("::ffff:cb00:7107"))).toMatchObject({ sourceAddress: "203.0.113.7" }); // IPv4-mapped
  });

  it("names no client for a balancer's own connection (v2 LOCAL, v1 UNKNOWN)", () => {
    expect(parseProxyHeader(v2(null))).toEqual({ state: "complete", length: 16, sourceAddress: null });
    expect(parseProxyHeader(Buffer.from("PROXY UNKNOWN\r\n"))).toEqual({ state: "complete", length: 15, sourceAddress: null });
  });

  it("waits for the rest of a header that has not fully arrived", () => {
    for (const header of [v1("203.0.113.7"), v2("2001:db8::7")]) {
      for (let cut = 1; cut < header.length; cut++) expect(parseProxyHeader(header.subarray(0, cut))).toEqual({ state: "incomplete" });
    }
  });

  it.each([
    ["an SSH identification", Buffer.from("SSH-2.0-OpenSSH_9.2\r\n"), "no PROXY protocol header"],
    ["a v1 line without its end", Buffer.from(`PROXY TCP4 ${"1".repeat(120)}`), "v1 header longer than 107 bytes"],
    ["a v1 address of the wrong family", Buffer.from("PROXY TCP4 2001:db8::7 192.0.2.10 51000 22\r\n"), "v1 addresses are not TCP4 addresses"],
    ["a v1 port out of range", Buffer.from("PROXY TCP4 203.0.113.7 192.0.2.10 65536 22\r\n"), "v1 ports are not ports"],
    ["a v1 protocol that does not exist", Buffer.from("PROXY UDP4 203.0.113.7 192.0.2.10 1 22\r\n"), 'v1 protocol "UDP4" is not TCP4, TCP6 or UNKNOWN'],
    ["a v2 version 3", Buffer.concat([V2_SIGNATURE, Buffer.of(0x31, 0x11, 0, 12), Buffer.alloc(12)]), "v2 version 3 is not 2"],
    ["a v2 header of 64 KiB", Buffer.concat([V2_SIGNATURE, Buffer.of(0x21, 0x11, 0xff, 0xff)]), "v2 header longer than 2048 bytes"],
    ["a v2 IPv6 header too short for its addresses", Buffer.concat([V2_SIGNATURE, Buffer.of(0x21, 0x21, 0, 12), Buffer.alloc(12)]), "v2 IPv6 address block is shorter than 36 bytes"],
  ])("refuses %s", (_name, data, reason) => {
    expect(parseProxyHeader(data)).toEqual({ state: "invalid", reason });
  });
});

/** A TCP load balancer on 127.0.0.1 that opens each connection to the gateway with the header given. */
async function startBalancer(targetPort: number, header: Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1", () => {
      upstream.write(header);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(databaseKinds())("SSH behind a load balancer speaking the PROXY protocol on %s", (kind) => {
  let bed: SshTestBed;
  let trusting: OwnSshServer;
  let distrusting: OwnSshServer;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
    const proxied = { SSH_PROXY_PROTOCOL: "true", SSH_LOGIN_GRACE_SECONDS: "2" };
    trusting = await startOwnSshServer(bed, { ...proxied, SSH_PROXY_TRUSTED: "10.0.0.0/8,127.0.0.1", SSH_MAX_CONNECTIONS_PER_IP: "1" });
    distrusting = await startOwnSshServer(bed, { ...proxied, SSH_PROXY_TRUSTED: "192.0.2.1" });
  });

  afterAll(async () => {
    await Promise.all([trusting?.close(), distrusting?.close()]);
    await bed?.stop();
  });

  const verifyThrough = async (port: number) => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    const result = await runSsh({ port, user: session.connectionIdentifier, keys: [key] });
    return { result, session: await bed.get(session) };
  };

  it.each([
    ["v1", v1("203.0.113.7"), "203.0.113.7"],
    ["v2", v2("2001:db8::7", Buffer.from("0300040000abcd", "hex")), "2001:db8::7"],
  ])("records the address a trusted balancer's %s header gives as the connection's IP", async (_version, header, address) => {
    const balancer = await startBalancer(trusting.port, header);
    try {
      const { result, session } = await verifyThrough(balancer.port);

      expect(result.stdout).toBe("Verified.\n");
      expect(session.connections.map((connection) => connection.ipAddress)).toEqual([address]);
    } finally {
      await balancer.close();
    }
  });

  it("takes the bytes that follow the header in the same packet as the client's", async () => {
    const connection = await connectRaw(trusting.port);
    connection.socket.write(Buffer.concat([v1("203.0.113.8"), clientOpening()]));

    // The server answers the client's key exchange: KEXINIT (20), then the ECDH reply (31).
    await expect.poll(() => packetTypes(connection.received())).toEqual(expect.arrayContaining([20, 31]));
    connection.socket.destroy();
    await trusting.drained();
  });

  it("counts SSH_MAX_CONNECTIONS_PER_IP by the client the header names, not by the balancer", async () => {
    const first = await connectRaw(trusting.port);
    first.socket.write(v2("203.0.113.20"));
    const other = await connectRaw(trusting.port);
    other.socket.write(v2("203.0.113.21"));
    await expect.poll(() => first.received().toString("latin1")).toMatch(/^SSH-2\.0-/);
    await expect.poll(() => other.received().toString("latin1")).toMatch(/^SSH-2\.0-/);

    const again = await connectRaw(trusting.port);
    again.socket.write(v2("203.0.113.20"));
    await again.closed;

    expect(again.received()).toHaveLength(0);
    expect(trusting.lines.find((line) => line.reason === "address_cap")).toMatchObject({ ip: "203.0.113.20" });
    first.socket.destroy();
    other.socket.destroy();
    await trusting.drained();
  });

  it("refuses a trusted balancer's connection that comes without a header, or with a broken one", async () => {
    const before = (await trusting.refusals()).proxy_header ?? 0;
    const direct = await verifyThrough(trusting.port);
    const broken = await connectRaw(trusting.port);
    broken.socket.write("PROXY TCP4 not-an-address 192.0.2.10 1 22\r\n");
    await broken.closed;

    expect(direct.result.code).toBe(255);
    expect(direct.session.connections).toEqual([]);
    expect((await trusting.refusals()).proxy_header).toBe(before + 2);
    expect(trusting.lines.filter((line) => line.reason === "proxy_header").at(-1)).toMatchObject({
      peer: "127.0.0.1",
      header: "v1 addresses are not TCP4 addresses",
      msg: "SSH connection refused: no valid PROXY protocol header from a trusted balancer",
    });
  });

  it("holds a header that stops halfway no longer than SSH_LOGIN_GRACE_SECONDS", async () => {
    const stalled = await connectRaw(trusting.port);
    stalled.socket.write(v1("203.0.113.9").subarray(0, 10));

    await stalled.closed;

    expect(trusting.lines.find((line) => line.deadline === "login" && line.ip === null)).toBeDefined();
  });

  it("refuses a header from a peer outside SSH_PROXY_TRUSTED, and serves that peer's own SSH connections", async () => {
    const balancer = await startBalancer(distrusting.port, v1("203.0.113.7"));
    try {
      const spoofed = await verifyThrough(balancer.port);
      const direct = await verifyThrough(distrusting.port);

      expect(spoofed.result.code).toBe(255);
      expect(spoofed.session.connections).toEqual([]);
      expect(direct.result.stdout).toBe("Verified.\n");
      expect(direct.session.connections.map((connection) => connection.ipAddress)).toEqual(["127.0.0.1"]);
      expect(await distrusting.refusals()).toMatchObject({ proxy_header: 1 });
      expect(await distrusting.outcomes()).toMatchObject({ rejected_proxy: 1 });
      expect(distrusting.lines.find((line) => line.reason === "proxy_header")).toMatchObject({
        peer: "127.0.0.1",
        msg: "SSH connection refused: PROXY protocol header from a peer not in SSH_PROXY_TRUSTED",
      });
    } finally {
      await balancer.close();
    }
  });
});

/** Message types of the binary packets after the server's identification line (unencrypted, before NEWKEYS). */
function packetTypes(received: Buffer): number[] {
  const types: number[] = [];
  let offset = received.indexOf("\r\n") + 2;
  while (offset > 1 && offset + 6 <= received.length) {
    const length = received.readUInt32BE(offset);
    types.push(received[offset + 5]!);
    offset += 4 + length;
  }
  return types;
}
