import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ParsedKey } from "ssh2";
import { generateHostKey } from "../../src/services/host-keys.service.js";
import { parseSigningKey } from "../../src/ssh/signing-key.js";
import { sshdUnavailable, startPrivateSshd } from "./private-sshd.js";
import type { ServerReply, ServerRequest } from "./server-process.js";
import { CLIENT_NO_DELAY, runVerifications } from "./ssh2-load.js";

/**
 * End-to-end SSH verifications per second and server CPU per verification, for the gateway (handshake, signature,
 * database transaction, event), a bare ssh2 server (as documented, and tuned as the gateway tunes ssh2), and
 * OpenSSH's sshd when installed: the same ssh2 client load (connect, public-key authentication, close) at each
 * concurrency. Each server runs in a process of its own, so the load generator's CPU is never counted.
 * `npm run bench:ssh`; BENCH_VERIFICATIONS [1000] per round, BENCH_SSHD_VERIFICATIONS [300], BENCH_CONCURRENCY
 * [1,8,32], BENCH_DATABASE_URL for MySQL/MariaDB, BENCH_SERVERS [gateway,bare,tuned,sshd], BENCH_CLIENT_NAGLE=1
 * for the load generator's sockets without TCP_NODELAY (see ssh2-load.ts), BENCH_CPU_PROF=<dir>
 * to write each Node server's CPU profile of each measured round there (open in Chrome DevTools), BENCH_WARMUP [4000].
 */
const VERIFICATIONS = Number(process.env.BENCH_VERIFICATIONS ?? 1000);
const SSHD_VERIFICATIONS = Number(process.env.BENCH_SSHD_VERIFICATIONS ?? 300);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const SERVERS = (process.env.BENCH_SERVERS ?? "gateway,bare,tuned,sshd").split(",");
/**
 * Verifications at concurrency 32 before a Node server's measured rounds, so they measure compiled code: V8 was
 * still optimizing the gateway's hot paths thousands of verifications in (its CPU per verification fell by a
 * third over the first 4,000 on one VM), and the load generator warms up with it. sshd runs each connection in
 * a new process, with nothing to warm up; it gets the few it needs to settle.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 4000);
const SSHD_WARMUP = 100;
const WARMUP_CONCURRENCY = 32;

interface BenchServer {
  name: string;
  port: number;
  prepare(count: number, publicKey: string): Promise<string[]>;
  cpuMicroseconds(): Promise<number>;
  verified(usernames: string[]): Promise<number>;
  /** Starts the CPU profiler (null), or stops it and writes the profile to the file. */
  profile?(file: string | null): Promise<void>;
  stop(): Promise<void>;
}

interface Measurement {
  server: string;
  concurrency: number;
  perSecond: number;
  cpuMsPerVerification: number;
  /** The load generator's own CPU, for scale: it shares the machine's cores with the server. */
  clientCpuMsPerVerification: number;
  failures: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** A server in a child process, driven over IPC one request at a time. */
async function childServer(name: string, script: string, args: string[] = []): Promise<BenchServer> {
  const child = fork(path.join(here, script), args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  const replies: Array<(reply: ServerReply) => void> = [];
  let ready!: (port: number) => void;
  const started = new Promise<number>((resolve) => (ready = resolve));
  child.on("message", (reply: ServerReply) => (reply.type === "ready" ? ready(reply.port) : replies.shift()?.(reply)));
  const ask = <T extends ServerReply["type"]>(request: ServerRequest) =>
    new Promise<Extract<ServerReply, { type: T }>>((resolve) => {
      replies.push((reply) => resolve(reply as Extract<ServerReply, { type: T }>));
      child.send(request);
    });
  const port = await started;
  return {
    name,
    port,
    prepare: async (count, publicKey) => (await ask<"prepared">({ type: "prepare", count, publicKey })).usernames,
    cpuMicroseconds: async () => (await ask<"cpu">({ type: "cpu" })).microseconds,
    verified: async (usernames) => (await ask<"verified">({ type: "verified", usernames })).count,
    profile: async (file) => void (await ask<"profile">({ type: "profile", file })),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.disconnect();
      await exited;
    },
  };
}

async function sshdServer(publicKey: string): Promise<BenchServer> {
  const sshd = await startPrivateSshd(publicKey);
  return {
    name: `sshd (${sshd.version.split(",")[0]})`,
    port: sshd.port,
    prepare: async (count) => Array.from({ length: count }, () => os.userInfo().username),
    cpuMicroseconds: () => sshd.cpuMicroseconds(),
    verified: async (usernames) => usernames.length,
    stop: () => sshd.stop(),
  };
}

function startServer(name: string, publicKey: string): Promise<BenchServer> {
  if (name === "gateway") return childServer(`gateway (${process.env.BENCH_DATABASE_URL ? "MySQL" : "SQLite"})`, "gateway-process.js");
  if (name === "bare") return childServer("bare ssh2 server", "bare-ssh2-process.js");
  if (name === "tuned") return childServer("bare ssh2, tuned", "bare-ssh2-process.js", ["--tuned"]);
  if (name === "sshd") return sshdServer(publicKey);
  throw new Error(`BENCH_SERVERS: unknown server "${name}" (gateway, bare, tuned, sshd)`);
}

async function measure(server: BenchServer, key: { ssh: string; parsed: ParsedKey }, count: number): Promise<Measurement[]> {
  const warmup = await server.prepare(server.name.startsWith("sshd") ? SSHD_WARMUP : WARMUP, key.ssh);
  await runVerifications({ port: server.port, usernames: warmup, privateKey: key.parsed }, WARMUP_CONCURRENCY);
  const results: Measurement[] = [];
  for (const concurrency of CONCURRENCY) {
    const usernames = await server.prepare(count, key.ssh);
    const profiles = process.env.BENCH_CPU_PROF;
    if (profiles) {
      mkdirSync(profiles, { recursive: true });
      await server.profile?.(null);
    }
    const before = await server.cpuMicroseconds();
    const clientBefore = process.cpuUsage();
    const load = await runVerifications({ port: server.port, usernames, privateKey: key.parsed }, concurrency);
    const client = process.cpuUsage(clientBefore);
    await new Promise((resolve) => setTimeout(resolve, 100)); // the server's side of the last closes
    const cpu = (await server.cpuMicroseconds()) - before;
    if (profiles) await server.profile?.(path.join(profiles, `${server.name.split(" ")[0]}-c${concurrency}.cpuprofile`));
    const verified = await server.verified(usernames);
    const measurement = {
      server: server.name,
      concurrency,
      perSecond: load.verifications / load.seconds,
      cpuMsPerVerification: cpu / 1000 / load.verifications,
      clientCpuMsPerVerification: (client.user + client.system) / 1000 / load.verifications,
      failures: load.failures + (load.verifications - verified),
    };
    printRow(measurement);
    results.push(measurement);
  }
  return results;
}

function printRow(row: Measurement): void {
  const columns = [
    row.server.padEnd(28),
    String(row.concurrency).padStart(11),
    row.perSecond.toFixed(0).padStart(16),
    row.cpuMsPerVerification.toFixed(2).padStart(22),
    row.clientCpuMsPerVerification.toFixed(2).padStart(22),
    String(row.failures).padStart(9),
  ];
  console.log(columns.join("  "));
}

async function main(): Promise<void> {
  const parsed = parseSigningKey(generateHostKey("ssh-ed25519"));
  const key = { ssh: `${parsed.type} ${parsed.getPublicSSH().toString("base64")}`, parsed };
  console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), Node ${process.version}, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  console.log(`${VERIFICATIONS} verifications per round (sshd ${SSHD_VERIFICATIONS}) after ${WARMUP} to warm up (sshd ${SSHD_WARMUP}), ssh2 client (${CLIENT_NO_DELAY ? "TCP_NODELAY" : "Nagle's algorithm on: BENCH_CLIENT_NAGLE=1"}), ed25519 user and host keys\n`);
  console.log(["server".padEnd(28), "concurrency", "verifications/s", "server CPU ms/verif.", "client CPU ms/verif.", "failures"].join("  "));
  const all: Measurement[] = [];
  for (const name of SERVERS) {
    const unavailable = name === "sshd" ? sshdUnavailable() : null;
    if (unavailable) {
      console.log(`OpenSSH comparison skipped: ${unavailable}`);
      continue;
    }
    const server = await startServer(name, key.ssh);
    try {
      all.push(...(await measure(server, key, name === "sshd" ? SSHD_VERIFICATIONS : VERIFICATIONS)));
    } finally {
      await server.stop();
    }
  }
  console.log("");
  for (const concurrency of CONCURRENCY) {
    const row = (prefix: string) => all.find((measured) => measured.server.startsWith(prefix) && measured.concurrency === concurrency);
    const [gateway, tuned, openssh] = [row("gateway"), row("bare ssh2, tuned"), row("sshd")];
    if (!gateway) continue;
    const parts: string[] = [];
    if (openssh) {
      const floor = tuned ? ` (the tuned bare ssh2 server ${(tuned.perSecond / openssh.perSecond).toFixed(1)}×)` : "";
      parts.push(`gateway ${(gateway.perSecond / openssh.perSecond).toFixed(1)}× sshd's verifications/s${floor}`);
      parts.push(`${(openssh.cpuMsPerVerification / gateway.cpuMsPerVerification).toFixed(1)}× less server CPU per verification`);
    }
    if (tuned) parts.push(`gateway CPU ${(gateway.cpuMsPerVerification / tuned.cpuMsPerVerification).toFixed(2)}× the tuned bare ssh2 server's`);
    if (parts.length > 0) console.log(`concurrency ${concurrency}: ${parts.join(", ")}`);
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
