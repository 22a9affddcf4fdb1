import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";

/** A database for one test file: a temp SQLite file, or a fresh database on the MariaDB of TEST_DATABASE_URL. */
export interface TestDatabase {
  readonly name: "sqlite" | "mariadb";
  readonly url: string;
  drop(): Promise<void>;
}

export type DatabaseKind = TestDatabase["name"];

/** SQLite always; MariaDB too when TEST_DATABASE_URL is set. Tests never touch DATABASE_URL. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.TEST_DATABASE_URL ? ["sqlite", "mariadb"] : ["sqlite"];
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const directory = mkdtempSync(path.join(tmpdir(), "sshverify-test-"));
    return {
      name: "sqlite",
      url: `sqlite:${path.join(directory, "test.db")}`,
      drop: async () => rmSync(directory, { recursive: true, force: true }),
    };
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `sshverify_test_${randomBytes(6).toString("hex")}`;
  const server = new URL(serverUrl);
  const admin = await mysql.createConnection({
    host: server.hostname,
    port: server.port ? Number(server.port) : 3306,
    user: decodeURIComponent(server.username),
    password: decodeURIComponent(server.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name: "mariadb",
    url: url.toString(),
    drop: async () => {
      const connection = await mysql.createConnection({
        host: server.hostname,
        port: server.port ? Number(server.port) : 3306,
        user: decodeURIComponent(server.username),
        password: decodeURIComponent(server.password),
      });
      await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await connection.end();
    },
  };
}
