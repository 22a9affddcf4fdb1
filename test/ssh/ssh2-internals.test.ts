import { spawn } from "node:child_process";
import { createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import net, { type AddressInfo, type Socket } from "node:net";
import ssh2, { type Connection } from "ssh2";
import { afterEach, describe, expect, it } from "vitest";
import { generateHostKey } from "../../src/services/host-keys.service.js";
import { ROOT } from "../support/processes.js";
import {
  curve25519UsesRawKeys,
  installedSsh2Version,
  sendAuthBanner,
  socketOf,
  SSH2_VERSION_WRITTEN_AGAINST,
  useRawCurve25519Keys,
  x25519PublicBytes,
  x25519SharedSecret,
} from "../../src/ssh/ssh2-internals.js";

const { Client, Server } = ssh2;

interface Harness {
  port: number;
  /** Sockets in the order the listener accepted them. */
  accepted: Socket[];
  close(): Promise<void>;
}

/** An ssh2 server fed by our own listener, as the gateway runs it; `onConnection` sees every connection. */
async function startHarness(onConnection: (connection: Connection) => void): Promise<Harness> {
  const server = new Server({ hostKeys: [generateHostKey("ssh-ed25519")] });
  server.on("connection", onConnection);
  const accepted: Socket[] = [];
  const listener = net.createServer((socket) => {
    accepted.push(socket);
    server.injectSocket(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  return {
    port: (listener.address() as AddressInfo).port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of accepted) socket.destroy();
        listener.close(() => resolve());
      }),
  };
}

/** Connects with ssh2's client, which reports banners, and resolves once authentication has failed. */
function connectAndCollectBanners(port: number): Promise<string[]> {
  return new Promise((resolve) => {
    const banners: string[] = [];
    const client = new Client();
    client.on("banner", (message) => banners.push(message));
    client.on("error", () => {
      client.end();
      resolve(banners);
    });
    client.connect({ host: "127.0.0.1", port, username: "someone", password: "not used" });
  });
}

describe("ssh2 internals", () => {
  let harness: Harness | null = null;

  afterEach(async () => {
    await harness?.close();
    harness = null;
  });

  it("are used only with the ssh2 version they were written against, pinned exactly", () => {
    const manifest = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };
    expect(manifest.dependencies.ssh2).toBe(SSH2_VERSION_WRITTEN_AGAINST);
    expect(installedSsh2Version).toBe(SSH2_VERSION_WRITTEN_AGAINST);
  });

  it("sendAuthBanner sends one USERAUTH_BANNER, with the text as given, before the authentication answer", async () => {
    harness = await startHarness((connection) => {
      let first = true;
      connection.on("authentication", (request) => {
        if (first) sendAuthBanner(connection, "Per-session banner: ünïcode\nsecond line\n");
        first = false;
        request.reject(["password"]);
      });
    });

    const banners = await connectAndCollectBanners(harness.port);

    expect(banners).toEqual(["Per-session banner: ünïcode\nsecond line\n"]);
  });

  it("socketOf finds the socket our listener handed to ssh2", async () => {
    const seen: Socket[] = [];
    harness = await startHarness((connection) => {
      seen.push(socketOf(connection));
      connection.on("authentication", (request) => request.reject());
    });

    await connectAndCollectBanners(harness.port);

    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(harness.accepted[0]);
  });
});

/** What ssh2 1.17.0 computes with OpenSSL's DER codecs: the SPKI's last 32 bytes, a DER SPKI for the peer's key. */
const X25519_SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

describe("curve25519 with raw keys", () => {
  const server = () => generateKeyPairSync("x25519");
  let harness: Harness | null = null;

  afterEach(async () => {
    await harness?.close();
    harness = null;
  });

  it("sends the public key's 32 bytes, as ssh2's DER export does", () => {
    const keys = server();
    expect(x25519PublicBytes(keys)).toEqual(keys.publicKey.export({ type: "spki", format: "der" }).subarray(-32));
  });

  it("never deadlocks the event loop, where taking the public key by a JWK export does on Node 20", { timeout: 60_000 }, async () => {
    // Generate, take the public bytes, agree, with garbage to collect, for 5 s in a process of its own (the compiled
    // build): with `publicKey.export({ format: "jwk" })` such a loop hangs in a lock within seconds in most runs.
    const internals = pathToFileURL(path.join(ROOT, "dist/src/ssh/ssh2-internals.js")).href;
    const script = `
      import { generateKeyPairSync } from "node:crypto";
      import { x25519PublicBytes, x25519SharedSecret } from ${JSON.stringify(internals)};
      const peer = x25519PublicBytes(generateKeyPairSync("x25519"));
      let garbage = [];
      let rounds = 0;
      for (const until = Date.now() + 5000; Date.now() < until; rounds++) {
        const keys = generateKeyPairSync("x25519");
        x25519PublicBytes(keys);
        x25519SharedSecret(keys, peer);
        garbage.push(new Array(50).fill(rounds));
        if (garbage.length > 1000) garbage = [];
      }
      console.log(rounds);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    child.stdout.on("data", (data: Buffer) => (output += data.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const hung = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(null);
      }, 40_000);
      child.once("exit", (exitCode) => {
        clearTimeout(hung);
        resolve(exitCode);
      });
    });
    expect(code, "the loop hung: killed after 40 s").toBe(0);
    expect(Number(output)).toBeGreaterThan(1000);
  });

  it("derives the secret the peer derives, as an mpint body", () => {
    for (let round = 0; round < 200; round++) {
      const keys = server();
      const peer = generateKeyPairSync("x25519");
      const peerBytes = peer.publicKey.export({ type: "spki", format: "der" }).subarray(-32);
      const secret = x25519SharedSecret(keys, peerBytes);
      const expected = diffieHellman({
        privateKey: peer.privateKey,
        publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, x25519PublicBytes(keys)]), type: "spki", format: "der" }),
      });
      let start = 0;
      while (expected[start] === 0) start++;
      const magnitude = expected.subarray(start);
      expect(secret).toEqual(magnitude[0]! & 0x80 ? Buffer.concat([Buffer.of(0), magnitude]) : magnitude);
    }
  });

  it("returns an error, as ssh2 expects, for a peer key of the wrong length or one that gives an all-zero secret", () => {
    const keys = server();
    for (const peer of [Buffer.alloc(0), Buffer.alloc(31, 9), Buffer.alloc(33, 9), Buffer.alloc(32)]) {
      expect(x25519SharedSecret(keys, peer)).toBeInstanceOf(Error);
    }
  });

  it("is what ssh2's curve25519 exchanges use once a connection has been given to useRawCurve25519Keys", async () => {
    const authenticated = new Set<Connection>();
    harness = await startHarness((connection) => {
      useRawCurve25519Keys(connection);
      connection.on("authentication", (request) => {
        authenticated.add(connection);
        request.reject();
      });
    });
    await connectAndCollectBanners(harness.port);
    expect(curve25519UsesRawKeys()).toBe(true);
    // A later connection completes its key exchange with them, up to the authentication request.
    await connectAndCollectBanners(harness.port);
    expect(authenticated.size).toBe(2);
  });
});
