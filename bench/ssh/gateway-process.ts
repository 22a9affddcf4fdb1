import { startBenchGateway } from "../support/bench-gateway.js";
import { serveBenchmarkRequests } from "./server-process.js";

/**
 * The gateway as the benchmark measures it, alone in this process: SQLite in a temp directory (or
 * BENCH_DATABASE_URL), logs at BENCH_LOG_LEVEL [info] to standard output, which the benchmark discards.
 */
async function main(): Promise<void> {
  const bench = await startBenchGateway({
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    SSH_MAX_CONNECTIONS_PER_IP: "1000",
  });
  const { gateway, caller } = bench;
  const sessionIds = new Map<string, string>();
  serveBenchmarkRequests({
    stop: bench.stop,
    prepare: async (count, publicKey) => {
      const usernames: string[] = [];
      for (let index = 0; index < count; index++) {
        const session = await gateway.services.sessions.create(caller, "verify", { keys: [{ publicKey }] });
        sessionIds.set(session.connectionIdentifier, session.id);
        usernames.push(session.connectionIdentifier);
      }
      return usernames;
    },
    verified: async (usernames) => {
      let verified = 0;
      for (const username of usernames) {
        const session = await gateway.services.sessions.get(caller, "verify", sessionIds.get(username) ?? "");
        if (session.status === "verified") verified++;
      }
      return verified;
    },
  });
  process.send?.({ type: "ready", port: gateway.sshPort });
}

void main();
