#!/usr/bin/env node
import "reflect-metadata";
import { setTimeout } from "node:timers/promises";
import { Command, InvalidArgumentError } from "commander";
import { ConfigError, loadConfig } from "../config.js";
import { Database } from "../db/database.js";
import { DomainError } from "../domain/errors.js";
import { ApiKeysService } from "../services/api-keys.service.js";
import { HostKeysService, knownHostsLine } from "../services/host-keys.service.js";
import { createGatewayPubSub, type GatewayPubSub } from "../services/pubsub.js";

/** The admin CLI: same environment as the server (DATABASE_URL, DATA_DIR, ...). */
async function withDatabase<T>(work: (database: Database) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const database = await Database.connect(config.databaseUrl);
  try {
    await database.migrate();
    return await work(database);
  } finally {
    await database.close();
  }
}

/** How long the CLI waits for Redis before it revokes without telling the instances. */
const REDIS_CONNECT_MS = 3_000;

/**
 * The instances' shared pub/sub when REDIS_URL is set, so that a revocation reaches their open connections at once
 * (the API publishes it the same way); without Redis, or with Redis unreachable, they close at their next re-check.
 */
async function revocationChannel(): Promise<GatewayPubSub | null> {
  const { redisUrl } = loadConfig();
  if (!redisUrl) return null;
  const pubSub = createGatewayPubSub(redisUrl);
  for (const giveUpAt = Date.now() + REDIS_CONNECT_MS; Date.now() < giveUpAt; await setTimeout(50)) {
    if (await pubSub.isReachable()) return pubSub;
  }
  process.stderr.write("sshverify: Redis is not reachable; open connections of the key close at the instances' next re-check\n");
  await pubSub.close();
  return null;
}

function print(json: boolean, data: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(data)}\n` : `${text}\n`);
}

function parseExpiry(value: string): Date {
  const seconds = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  const date = Number.isNaN(seconds) ? new Date(value) : new Date(Date.now() + seconds * 1000);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError("expected seconds from now or an ISO 8601 time");
  if (date.getTime() <= Date.now()) throw new InvalidArgumentError("must be in the future");
  return date;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function buildCli(): Command {
  const program = new Command("sshverify").description("SSH Verify Gateway administration").showHelpAfterError();

  const project = program.command("project").description("projects");
  project
    .command("create <name>")
    .description("create a project and its first API key (shown once)")
    .option("--json", "print one JSON line")
    .action(async (name: string, options: { json?: boolean }) => {
      const { project: created, apiKey } = await withDatabase((database) => new ApiKeysService(database).createProject(name));
      print(
        Boolean(options.json),
        { project_id: created.id, api_key: apiKey.key },
        `project ${created.id} (${created.name})\napi key (shown once): ${apiKey.key}`,
      );
    });
  project
    .command("list")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }) => {
      const projects = await withDatabase((database) => new ApiKeysService(database).listProjects());
      const rows = projects.map((item) => ({ id: item.id, name: item.name, created_at: item.createdAt.toISOString() }));
      print(Boolean(options.json), rows, rows.map((row) => `${row.id}  ${row.name}  ${row.created_at}`).join("\n"));
    });

  const key = program.command("key").description("API keys");
  key
    .command("create")
    .description("create an API key for a project (shown once)")
    .requiredOption("--project <id>", "project id")
    .option("--name <name>", "a label for the key", "api key")
    .option("--expires <when>", "seconds from now, or an ISO 8601 time", parseExpiry)
    .option("--json", "print one JSON line")
    .action(async (options: { project: string; name: string; expires?: Date; json?: boolean }) => {
      const issued = await withDatabase((database) =>
        new ApiKeysService(database).createApiKey(options.project, { name: options.name, expiredAt: options.expires ?? null }),
      );
      print(
        Boolean(options.json),
        { id: issued.id, project_id: issued.projectId, api_key: issued.key, expired_at: iso(issued.expiredAt) },
        `api key ${issued.id} (shown once): ${issued.key}`,
      );
    });
  key
    .command("list")
    .option("--project <id>", "only this project's keys")
    .option("--json", "print JSON")
    .action(async (options: { project?: string; json?: boolean }) => {
      const keys = await withDatabase((database) => new ApiKeysService(database).listApiKeys(options.project));
      const rows = keys.map((item) => ({
        id: item.id,
        project_id: item.projectId,
        name: item.name,
        created_at: item.createdAt.toISOString(),
        expired_at: iso(item.expiredAt),
        revoked_at: iso(item.revokedAt),
      }));
      const text = rows
        .map((row) => `${row.id}  ${row.project_id}  ${row.name}${row.revoked_at ? "  revoked" : ""}${row.expired_at ? `  expires ${row.expired_at}` : ""}`)
        .join("\n");
      print(Boolean(options.json), rows, text);
    });
  key
    .command("revoke <id>")
    .description("revoke an API key; with REDIS_URL its open WebSocket connections close at once on every instance")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const pubSub = await revocationChannel();
      try {
        const revoked = await withDatabase((database) => new ApiKeysService(database, pubSub).revokeApiKey(id));
        print(Boolean(options.json), { id: revoked.id, revoked_at: iso(revoked.revokedAt) }, `revoked ${revoked.id}`);
      } finally {
        await pubSub?.close();
      }
    });

  program
    .command("migrate")
    .description("run pending database migrations")
    .action(async () => {
      const config = loadConfig();
      const database = await Database.connect(config.databaseUrl);
      try {
        const applied = await database.migrate();
        print(false, applied, applied.length ? `applied: ${applied.join(", ")}` : "database is up to date");
      } finally {
        await database.close();
      }
    });

  program
    .command("host-keys")
    .description("print the SSH host key fingerprints and known_hosts lines")
    .option("--host <name>", "host name for the known_hosts lines (default PUBLIC_SSH_HOST or localhost)")
    .option("--json", "print JSON")
    .action(async (options: { host?: string; json?: boolean }) => {
      const config = loadConfig();
      const keys = await withDatabase((database) => new HostKeysService(database).load(config.sshHostKeyFiles));
      const host = options.host ?? config.publicSshHost ?? "localhost";
      const rows = keys.map((hostKey) => ({
        algorithm: hostKey.algorithm,
        fingerprint: hostKey.sha256,
        known_hosts: knownHostsLine(host, config.sshPort, hostKey),
      }));
      const text = rows.map((row) => `${row.algorithm} ${row.fingerprint}\n${row.known_hosts}`).join("\n");
      print(Boolean(options.json), rows, text);
    });

  return program;
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    const message =
      error instanceof ConfigError || error instanceof DomainError || error instanceof Error ? error.message : String(error);
    process.stderr.write(`sshverify: ${message}\n`);
    process.exit(1);
  });
