import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { DomainError } from "../../src/domain/errors.js";
import { ApiKeysService } from "../../src/services/api-keys.service.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";
import { runCli } from "../support/processes.js";

describe.each(databaseKinds())("the sshverify CLI on %s", (kind) => {
  let testDatabase: TestDatabase;
  let env: Record<string, string>;
  let database: Database;
  let apiKeys: ApiKeysService;

  beforeAll(async () => {
    testDatabase = await createTestDatabase(kind);
    env = { DATABASE_URL: testDatabase.url, LOG_LEVEL: "silent" };
    const migrated = await runCli(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    database = await Database.connect(testDatabase.url);
    apiKeys = new ApiKeysService(database);
  });

  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });

  it("creates a project and prints exactly one JSON line with a key that authenticates", async () => {
    const result = await runCli(["project", "create", "acme", "--json"], env);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(1);
    const created = JSON.parse(lines[0]) as { project_id: string; api_key: string };
    expect(Object.keys(created).sort()).toEqual(["api_key", "project_id"]);
    const context = await apiKeys.authenticate(created.api_key);
    expect(context.projectId).toBe(created.project_id);
  });

  it("stores API keys only as hashes", async () => {
    const result = await runCli(["project", "create", "hashes", "--json"], env);
    const { api_key: key } = JSON.parse(result.stdout) as { api_key: string };
    const rows: Array<Record<string, unknown>> = await database.read((manager) => manager.query("SELECT * FROM api_keys"));
    expect(JSON.stringify(rows)).not.toContain(key);
  });

  it("creates a second key for a project, lists it, and a revoked key no longer authenticates", async () => {
    const project = JSON.parse((await runCli(["project", "create", "revoking", "--json"], env)).stdout) as { project_id: string };
    const created = await runCli(["key", "create", "--project", project.project_id, "--name", "ci", "--json"], env);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; api_key: string };
    await expect(apiKeys.authenticate(key.api_key)).resolves.toMatchObject({ projectId: project.project_id });

    const listed = JSON.parse((await runCli(["key", "list", "--project", project.project_id, "--json"], env)).stdout) as Array<{ id: string; name: string }>;
    expect(listed.map((item) => item.name)).toEqual(["default", "ci"]);

    const revoked = await runCli(["key", "revoke", key.id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    await expect(apiKeys.authenticate(key.api_key)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("revokes a key when REDIS_URL names a Redis that does not answer, and says its connections close at the re-check", async () => {
    const project = JSON.parse((await runCli(["project", "create", "no redis", "--json"], env)).stdout) as { project_id: string };
    const key = JSON.parse((await runCli(["key", "create", "--project", project.project_id, "--json"], env)).stdout) as { id: string; api_key: string };

    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const revoked = await runCli(["key", "revoke", key.id, "--json"], { ...env, REDIS_URL: "redis://127.0.0.1:1" });

    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain("Redis is not reachable; open connections of the key close at the instances' next re-check");
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: key.id, revoked_at: expect.any(String) });
    await expect(apiKeys.authenticate(key.api_key)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("creates a key with an expiry that stops authenticating once it has passed", async () => {
    const project = JSON.parse((await runCli(["project", "create", "expiring", "--json"], env)).stdout) as { project_id: string };
    const created = await runCli(["key", "create", "--project", project.project_id, "--expires", "1", "--json"], env);
    const key = JSON.parse(created.stdout) as { api_key: string; expired_at: string };
    expect(new Date(key.expired_at).getTime()).toBeGreaterThan(Date.now() - 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, new Date(key.expired_at).getTime() - Date.now() + 50)));
    await expect(apiKeys.authenticate(key.api_key)).rejects.toBeInstanceOf(DomainError);
  });

  it("refuses a key for an unknown project and an expiry in the past with one clear line", async () => {
    const unknown = await runCli(["key", "create", "--project", "no-such-project"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe("sshverify: project not found");
    const past = await runCli(["key", "create", "--project", "x", "--expires", "2001-01-01T00:00:00Z"], env);
    expect(past.code).not.toBe(0);
    expect(past.stderr).toContain("must be in the future");
  });

  it("prints host key fingerprints and known_hosts lines that stay the same across runs", async () => {
    const first = JSON.parse((await runCli(["host-keys", "--host", "verify.example.com", "--json"], env)).stdout) as Array<{
      algorithm: string;
      fingerprint: string;
      known_hosts: string;
    }>;
    expect(first.map((key) => key.algorithm).sort()).toEqual(["ssh-ed25519", "ssh-rsa"]);
    for (const key of first) {
      expect(key.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
      expect(key.known_hosts).toMatch(new RegExp(`^\\[verify\\.example\\.com\\]:2222 ${key.algorithm} AAAA`));
    }
    const second = JSON.parse((await runCli(["host-keys", "--host", "verify.example.com", "--json"], env)).stdout);
    expect(second).toEqual(first);
  });
});
