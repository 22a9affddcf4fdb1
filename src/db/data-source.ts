import { mkdirSync } from "node:fs";
import path from "node:path";
import { DataSource, type Logger as TypeOrmLogger } from "typeorm";
import { InitialSchema1764300000000 } from "../../migrations/1764300000000-initial-schema.js";
import { ForeignKeyIndexes1764900000000 } from "../../migrations/1764900000000-foreign-key-indexes.js";
import { ENTITIES } from "./entities/index.js";
import { SnakeCaseNamingStrategy } from "./naming-strategy.js";

export type Dialect = "sqlite" | "mysql";

export const MIGRATIONS = [InitialSchema1764300000000, ForeignKeyIndexes1764900000000];

export function dialectOf(databaseUrl: string): Dialect {
  return databaseUrl.startsWith("sqlite:") ? "sqlite" : "mysql";
}

/** Counts every SQL statement; tests read it to prove a page costs a bounded number of queries. */
export class StatementCounter implements TypeOrmLogger {
  count = 0;
  logQuery(): void {
    this.count++;
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

/** The one DataSource factory: `sqlite:<file>` (or `sqlite::memory:`) or `mysql://user:pass@host:port/db`. */
export function createDataSource(databaseUrl: string, counter = new StatementCounter()): DataSource {
  const common = {
    entities: ENTITIES,
    migrations: MIGRATIONS,
    namingStrategy: new SnakeCaseNamingStrategy(),
    logger: counter,
    migrationsTransactionMode: "each" as const,
  };
  if (dialectOf(databaseUrl) === "sqlite") {
    const file = databaseUrl.slice("sqlite:".length);
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return new DataSource({
      ...common,
      type: "better-sqlite3",
      database: file,
      // Another process (the CLI, a second instance) may hold the write lock for a moment.
      timeout: 10_000,
      prepareDatabase: (db: { pragma: (statement: string) => unknown }) => {
        if (file !== ":memory:") db.pragma("journal_mode = WAL");
        db.pragma("synchronous = NORMAL");
        db.pragma("temp_store = MEMORY");
      },
    });
  }
  const url = new URL(databaseUrl.replace(/^mariadb:/, "mysql:"));
  return new DataSource({
    ...common,
    type: "mysql",
    host: url.hostname,
    port: url.port ? Number(url.port) : 3306,
    username: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.replace(/^\//, ""),
    timezone: "Z",
    charset: "utf8mb4_unicode_ci",
    extra: { connectionLimit: 20 },
  });
}
