import "reflect-metadata";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConfig } from "../../src/config.js";
import { type Gateway, startGateway } from "../../src/gateway.js";
import { createLogger } from "../../src/logger.js";
import type { RequestContext } from "../../src/services/context.js";

export interface BenchGateway {
  gateway: Gateway;
  /** The bootstrap API key, and the project's caller signed in with it. */
  apiKey: string;
  caller: RequestContext;
  /** Stops the gateway and removes its temp directory. */
  stop(): Promise<void>;
}

/**
 * A whole gateway for a benchmark: HTTP and SSH on free ports of 127.0.0.1, SQLite in a temp directory (or an
 * empty scratch database named by BENCH_DATABASE_URL), a bootstrap API key. `settings` add to that environment.
 */
export async function startBenchGateway(settings: Record<string, string>): Promise<BenchGateway> {
  const directory = mkdtempSync(path.join(tmpdir(), "sshverify-bench-"));
  const apiKey = `bench_${randomBytes(16).toString("hex")}`;
  const config = loadConfig({
    PORT: "0",
    HOST: "127.0.0.1",
    SSH_PORT: "0",
    SSH_HOST: "127.0.0.1",
    DATABASE_URL: process.env.BENCH_DATABASE_URL ?? `sqlite:${path.join(directory, "bench.db")}`,
    BOOTSTRAP_API_KEY: apiKey,
    ...settings,
  });
  const gateway = await startGateway(config, createLogger(config.logLevel));
  const stop = async () => {
    await gateway.stop();
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    return { gateway, apiKey, caller: await gateway.services.apiKeys.authenticate(apiKey), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A new ed25519 public key in OpenSSH's one-line form. */
export function ed25519KeyLine(): string {
  // Encoded by the generation itself: a JWK export of a freshly generated key can deadlock Node 20 (x25519PublicBytes).
  const { publicKey } = generateKeyPairSync("ed25519", {
    publicKeyEncoding: { type: "spki", format: "der" },
    privateKeyEncoding: { type: "pkcs8", format: "der" },
  });
  const raw = publicKey.subarray(-32);
  const field = (data: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, data.length]), data]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")}`;
}
