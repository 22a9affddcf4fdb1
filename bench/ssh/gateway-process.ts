import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import { serveBenchmarkRequests } from "./server-process.js";

/**
 * The gateway as the benchmark measures it, alone in this process: SQLite in a temp directory (or
 * BENCH_DATABASE_URL), logs at BENCH_LOG_LEVEL [info] to standard output, which the benchmark discards.
 */
async function main(): Promise<void> {
  const directory = mkdtempSync(path.join(tmpdir(), "sshverify-bench-"));
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SSH_PORT: "0",
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(directory, "bench.db")}`,
    BOOTSTRAP_API_KEY: apiKey,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    SSH_MAX_CONNECTIONS_PER_IP: "1000",
  });
  const gateway = await startGateway(config, createLogger(config.logLevel));
  const caller = await gateway.services.apiKeys.authenticate(apiKey);
  const sessionIds = new Map<string, string>();
  process.on("disconnect", () => {
    void gateway.stop().finally(() => {
      rmSync(directory, { recursive: true, force: true });
      process.exit(0);
    });
  });
  serveBenchmarkRequests({
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
