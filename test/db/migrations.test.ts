import type { EntityManager } from "typeorm";
import { afterEach, describe, expect, it } from "vitest";
import { Database } from "../../src/db/database.js";
import { Project } from "../../src/db/entities/index.js";
import { createTestDatabase, databaseKinds, type TestDatabase } from "../support/databases.js";
import { freePort, startServiceProcess, stopProcess } from "../support/processes.js";

const TABLES = [
  "projects",
  "api_keys",
  "sessions",
  "session_keys",
  "connections",
  "connection_keys",
  "webhooks",
  "webhook_invocations",
  "webhook_attempts",
  "ssh_host_keys",
];

describe.each(databaseKinds())("migrations on %s", (kind) => {
  let testDatabase: TestDatabase | undefined;
  afterEach(async () => {
    await testDatabase?.drop();
    testDatabase = undefined;
  });

  it("apply from empty, create every table, and are a no-op the second time", async () => {
    testDatabase = await createTestDatabase(kind);
    const database = await Database.connect(testDatabase.url);
    try {
      const first = await database.migrate();
      expect(first.length).toBeGreaterThan(0);
      const runner = database.dataSource.createQueryRunner();
      for (const table of TABLES) expect(await runner.hasTable(table), table).toBe(true);
      await runner.release();
      expect(await database.migrate()).toEqual([]);
    } finally {
      await database.close();
    }
    const again = await Database.connect(testDatabase.url);
    try {
      expect(await again.migrate()).toEqual([]);
    } finally {
      await again.close();
    }
  });

  it("give every foreign key an index that leads with its column, so deleting a parent row never scans a child table", async () => {
    testDatabase = await createTestDatabase(kind);
    const database = await Database.connect(testDatabase.url);
    try {
      await database.migrate();
      const unindexed = await database.read((manager) =>
        kind === "sqlite" ? unindexedForeignKeysOnSqlite(manager) : unindexedForeignKeysOnMysql(manager),
      );
      expect(unindexed).toEqual([]);
    } finally {
      await database.close();
    }
  });

  it("stores times with millisecond precision", async () => {
    testDatabase = await createTestDatabase(kind);
    const database = await Database.connect(testDatabase.url);
    try {
      await database.migrate();
      const createdAt = new Date("2026-03-04T05:06:07.891Z");
      await database.transaction(({ manager }) => manager.insert(Project, { id: "p1", name: "n", createdAt }));
      const row = await database.read((manager) => manager.findOneByOrFail(Project, { id: "p1" }));
      expect(row.createdAt.toISOString()).toBe("2026-03-04T05:06:07.891Z");
    } finally {
      await database.close();
    }
  });

  it("lets two service processes start at once on one empty database", async () => {
    testDatabase = await createTestDatabase(kind);
    const ports = [await freePort(), await freePort()];
    const [sshA, sshB] = [await freePort(), await freePort()];
    const common = { DATABASE_URL: testDatabase.url, HOST: "127.0.0.1", SSH_HOST: "127.0.0.1" };
    const started = await Promise.all([
      startServiceProcess({ ...common, PORT: String(ports[0]), SSH_PORT: String(sshA) }),
      startServiceProcess({ ...common, PORT: String(ports[1]), SSH_PORT: String(sshB) }),
    ]);
    try {
      for (const service of started) {
        const ready = await fetch(`${service.url}/readyz`);
        expect(ready.status).toBe(200);
      }
    } finally {
      for (const service of started) expect(await stopProcess(service.child)).toBe(0);
    }
  });
});

/** `table.column` of each foreign key whose column leads no index. */
async function unindexedForeignKeysOnSqlite(manager: EntityManager): Promise<string[]> {
  const unindexed: string[] = [];
  for (const table of TABLES) {
    const keys: Array<{ from: string }> = await manager.query(`PRAGMA foreign_key_list("${table}")`);
    const indexes: Array<{ name: string }> = await manager.query(`PRAGMA index_list("${table}")`);
    const leading = new Set<string>();
    for (const index of indexes) {
      const [first]: Array<{ name: string }> = await manager.query(`PRAGMA index_info("${index.name}")`);
      if (first) leading.add(first.name);
    }
    for (const key of keys) if (!leading.has(key.from)) unindexed.push(`${table}.${key.from}`);
  }
  return unindexed;
}

/** The same on MySQL, from information_schema (InnoDB makes such an index itself when none exists). */
async function unindexedForeignKeysOnMysql(manager: EntityManager): Promise<string[]> {
  const rows: Array<{ name: string }> = await manager.query(
    `SELECT CONCAT(k.TABLE_NAME, '.', k.COLUMN_NAME) AS name FROM information_schema.KEY_COLUMN_USAGE k
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = k.TABLE_SCHEMA
         AND s.TABLE_NAME = k.TABLE_NAME AND s.COLUMN_NAME = k.COLUMN_NAME AND s.SEQ_IN_INDEX = 1)
     ORDER BY name`,
  );
  return rows.map((row) => row.name);
}
