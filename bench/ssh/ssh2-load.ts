import net from "node:net";
import { performance } from "node:perf_hooks";
import ssh2, { type ParsedKey } from "ssh2";
import { useRawCurve25519Keys } from "../../src/ssh/ssh2-internals.js";

const { Client } = ssh2;

export interface LoadTarget {
  port: number;
  /** One user name per verification, used in order. */
  usernames: string[];
  privateKey: ParsedKey;
}

export interface LoadResult {
  verifications: number;
  failures: number;
  seconds: number;
}

/**
 * TCP_NODELAY on the client's socket, unless BENCH_CLIENT_NAGLE=1. With Nagle's algorithm on loopback (a 65 KB
 * segment size) the client's KEXINIT and KEX_ECDH_INIT, written in one tick when the server's KEXINIT came
 * first, leave as two segments: the second waits for the first's ACK, which the server's kernel delays by
 * 40 ms. tcpdump showed that stall in 25 to 45% of handshakes, with OpenSSH's client as well as ssh2's, whatever
 * the server: the figures measured the kernel's delayed-ACK timer rather than the servers. OpenSSH with the
 * loopback's MTU at 1,500 bytes, as on a real network, showed none in 100 logins: its 1,560-byte KEXINIT then
 * spans two segments and is acknowledged at once.
 */
export const CLIENT_NO_DELAY = process.env.BENCH_CLIENT_NAGLE !== "1";

/** A verification that has not ended by then is a failure: its socket is destroyed, and the run goes on. */
const VERIFICATION_TIMEOUT_MS = 60_000;

/** One verification as a client sees it: connect, key exchange, public-key authentication, then close. */
export function verifyOnce(port: number, username: string, privateKey: ParsedKey): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new Client();
    // Our own socket (ssh2's `sock`), so a verification stuck anywhere can be ended.
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(CLIENT_NO_DELAY);
    let authenticated = false;
    const timer = setTimeout(() => socket.destroy(), VERIFICATION_TIMEOUT_MS);
    client.on("ready", () => {
      authenticated = true;
      client.end();
    });
    client.on("error", () => undefined);
    client.on("close", () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(authenticated);
    });
    // As ssh2 does with a `privateKey` (`none` first), but with the key parsed once and the key exchange's keys
    // kept raw, as the gateway does: the client shares the machine's two cores with the server it measures.
    const authHandler = [{ type: "none" as const, username }, { type: "publickey" as const, username, key: privateKey }];
    client.connect({ sock: socket, username, authHandler, readyTimeout: 30_000 });
    useRawCurve25519Keys(client);
  });
}

/** Runs every user name's verification, `concurrency` at a time. */
export async function runVerifications(target: LoadTarget, concurrency: number): Promise<LoadResult> {
  let next = 0;
  let verifications = 0;
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < target.usernames.length) {
        const username = target.usernames[next++]!;
        if (await verifyOnce(target.port, username, target.privateKey)) verifications++;
        else failures++;
      }
    }),
  );
  return { verifications, failures, seconds: (performance.now() - started) / 1000 };
}
