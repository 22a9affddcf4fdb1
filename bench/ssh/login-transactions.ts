import { performance } from "node:perf_hooks";
import { parsePublicKey } from "../../src/domain/public-keys.js";
import { ed25519KeyLine, startBenchGateway } from "../support/bench-gateway.js";

/**
 * The database part of an SSH verification alone, in the gateway's own process: `openLogin` (session looked up,
 * connection and its event recorded) then `recordProof` (key, `verified` and `status_changed` events, snapshot),
 * `concurrency` verifications at a time, no SSH. Prints CPU and wall time per verification.
 * `npm run bench:login-transactions`; BENCH_VERIFICATIONS [2000] per round, BENCH_CONCURRENCY [1,8,32], BENCH_ROUNDS [3].
 */
const VERIFICATIONS = Number(process.env.BENCH_VERIFICATIONS ?? 2000);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? "1,8,32").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function main(): Promise<void> {
  const bench = await startBenchGateway({ LOG_LEVEL: "silent" });
  const { gateway, caller } = bench;
  const { sessions, sshLogins } = gateway.services;
  const keyLine = ed25519KeyLine();
  const key = parsePublicKey(keyLine);
  try {
    const rows: string[] = ["| concurrency | round | CPU ms per verification | wall ms per verification |", "|---|---|---|---|"];
    for (const concurrency of CONCURRENCY) {
      for (let round = 0; round <= ROUNDS; round++) {
        const identifiers: string[] = [];
        for (let index = 0; index < VERIFICATIONS; index++) {
          identifiers.push((await sessions.create(caller, "verify", { keys: [{ publicKey: keyLine }] })).connectionIdentifier);
        }
        const cpu = process.cpuUsage();
        const started = performance.now();
        let next = 0;
        const worker = async () => {
          while (next < identifiers.length) {
            const login = await sshLogins.openLogin(identifiers[next++]!, "127.0.0.1", "SSH-2.0-bench");
            if (login.session === null) throw new Error(`refused: ${login.refusal}`);
            const sessionKeyId = [...login.session.configuredKeys.values()][0]!;
            const proof = await sshLogins.recordProof(login.connectionId, login.session.id, [{ sessionKeyId, key }]);
            if (proof.status !== "verified") throw new Error(`not verified: ${proof.status}`);
          }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        const wall = performance.now() - started;
        const used = process.cpuUsage(cpu);
        // Round 0 warms up.
        if (round > 0) {
          const cpuMs = (used.user + used.system) / 1000 / VERIFICATIONS;
          rows.push(`| ${concurrency} | ${round} | ${cpuMs.toFixed(3)} | ${(wall / VERIFICATIONS).toFixed(3)} |`);
        }
      }
    }
    console.log(rows.join("\n"));
  } finally {
    await bench.stop();
  }
}

void main();
