import type { DataSource, EntityManager, SelectQueryBuilder, ObjectLiteral } from "typeorm";
import { withFileLock } from "./file-lock.js";
import { createDataSource, dialectOf, type Dialect, StatementCounter } from "./data-source.js";
import { SqliteAccess } from "./sqlite-access.js";

type AfterCommit = () => void | Promise<void>;

/** What a unit of work inside a transaction gets: its manager and a way to act once the commit is durable. */
export interface Transaction {
  readonly manager: EntityManager;
  readonly dialect: Dialect;
  afterCommit(action: AfterCommit): void;
  /** Row lock on MySQL; SQLite needs none because every access there is serialized. */
  forUpdate<T extends ObjectLiteral>(query: SelectQueryBuilder<T>): SelectQueryBuilder<T>;
}

/**
 * The transaction helper. On SQLite every access goes through one queue on TypeORM's one connection, and the
 * transactions of one turn of the event loop share a COMMIT (`SqliteAccess`). On MySQL reads use the pool and
 * transactions take row locks (`forUpdate`) or use conditional updates.
 */
export class Database {
  readonly dialect: Dialect;
  private readonly sqlite: SqliteAccess | null;

  constructor(
    readonly dataSource: DataSource,
    readonly statements: StatementCounter,
    dialect: Dialect,
    /** The SQLite file, when there is one another process could share. */
    private readonly sqliteFile: string | null = null,
  ) {
    this.dialect = dialect;
    this.sqlite = dialect === "sqlite" ? new SqliteAccess(dataSource) : null;
  }

  static async connect(databaseUrl: string): Promise<Database> {
    const statements = new StatementCounter();
    const dataSource = createDataSource(databaseUrl, statements);
    await dataSource.initialize();
    const dialect = dialectOf(databaseUrl);
    const file = dialect === "sqlite" ? databaseUrl.slice("sqlite:".length) : null;
    return new Database(dataSource, statements, dialect, file === ":memory:" ? null : file);
  }

  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.sqlite ? this.sqlite.read(work) : work(this.dataSource.manager);
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    const afterCommit: AfterCommit[] = [];
    const unit = (manager: EntityManager) =>
      work({
        manager,
        dialect: this.dialect,
        afterCommit: (action) => afterCommit.push(action),
        forUpdate: (query) => (this.dialect === "mysql" ? query.setLock("pessimistic_write") : query),
      });
    const result = await (this.sqlite ? this.sqlite.transaction(unit) : this.dataSource.transaction(unit));
    for (const action of afterCommit) await action();
    return result;
  }

  /** A lock across processes sharing the database: MySQL GET_LOCK, or a lock file beside the SQLite file. */
  async withExclusiveLock<T>(name: string, work: () => Promise<T>, timeoutSeconds = 120): Promise<T> {
    if (this.dialect === "sqlite") {
      if (this.sqliteFile === null) return work();
      // One lock file for every start-up step: SQLite has one writer anyway, and steps of two processes
      // interleaved under different names still met SQLITE_BUSY.
      return withFileLock(`${this.sqliteFile}.lock`, work, timeoutSeconds * 1000);
    }
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const rows: Array<{ acquired: number | string | null }> = await runner.query(
        "SELECT GET_LOCK(?, ?) AS acquired",
        [name, timeoutSeconds],
      );
      if (Number(rows[0]?.acquired) !== 1) throw new Error(`could not take the database lock "${name}"`);
      try {
        return await work();
      } finally {
        await runner.query("SELECT RELEASE_LOCK(?)", [name]);
      }
    } finally {
      await runner.release();
    }
  }

  async migrate(): Promise<string[]> {
    return this.withExclusiveLock("sshverify:migrations", async () => {
      const applied = await this.dataSource.runMigrations({ transaction: "each" });
      return applied.map((migration) => migration.name);
    });
  }

  async isReachable(): Promise<boolean> {
    try {
      await this.read((manager) => manager.query("SELECT 1"));
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    await this.sqlite?.flush();
    await this.dataSource.destroy();
  }
}
