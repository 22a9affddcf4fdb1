import type { DataSource, EntityManager, QueryRunner } from "typeorm";
import { preparedStatement, type SqliteConnection, sqliteConnectionOf } from "./plain-sql.js";

/** Transactions in one COMMIT at most: a bound on how long the batch holds SQLite's write lock. */
const MAX_TRANSACTIONS_PER_COMMIT = 64;

/** One COMMIT's worth of transactions: their callers hear of their success once it is done. */
class Batch {
  transactions = 1;
  readonly committed: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.committed = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // Every caller awaits it; this only keeps a batch whose transactions all failed from being "unhandled".
    this.committed.catch(() => undefined);
  }
}

/**
 * Every access to SQLite, one at a time in arrival order, on TypeORM's one connection: two interleaved
 * transactions would nest, and a read could see another's uncommitted rows.
 *
 * Group commit. The transactions that arrive within one turn of the event loop (the logins of every SSH socket
 * that had data, say) share one COMMIT, each in a savepoint of its own. A COMMIT writes every page its
 * transaction changed to the write-ahead log, and transactions that append to the same tables and indexes share
 * most of those pages: the COMMIT was half of an SSH verification's database time (two of them, 56 µs each),
 * the statements themselves 5 to 15 µs. With the transaction statements run here rather than through TypeORM,
 * `npm run bench:login-transactions` measured 0.16 ms of CPU per verification before and 0.09 to 0.13 after, at 8
 * and 32 concurrent (the same at 1, where nothing shares a COMMIT). What each caller sees is unchanged:
 * - a transaction that throws is rolled back to its savepoint, alone, and its caller gets the error;
 * - a caller hears of its transaction's success only once the COMMIT is done, and a COMMIT that fails fails
 *   every transaction in it, so nothing is reported saved that is not;
 * - a read first commits the open batch, so it never sees rows that are not committed.
 * One thing a transaction's work must not do: wait for another database call (a read, a transaction, another
 * transaction's result). Each of them waits for this batch, and the batch for this work.
 */
export class SqliteAccess {
  private tail: Promise<unknown> = Promise.resolve();
  private batch: Batch | null = null;

  constructor(private readonly dataSource: DataSource) {}

  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      this.commit();
      return work(this.dataSource.manager);
    });
  }

  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const { value, batch } = await this.serially(() => {
      const open = this.batch;
      return open !== null && open.transactions < MAX_TRANSACTIONS_PER_COMMIT ? this.join(open, work) : this.begin(work);
    });
    await batch.committed;
    return value;
  }

  /** Commits the open batch, if there is one: before the connection closes. */
  flush(): Promise<void> {
    return this.serially(async () => this.commit());
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A new batch, with this transaction first. It needs no savepoint: when it fails, it is the whole batch. */
  private async begin<T>(work: (manager: EntityManager) => Promise<T>): Promise<{ value: T; batch: Batch }> {
    this.commit();
    // IMMEDIATE: the write lock from the start. A deferred transaction that first only reads keeps its snapshot,
    // and if another process (the CLI, a second instance) commits meanwhile, the batch's next write fails at
    // once with SQLITE_BUSY, whatever the busy timeout.
    this.run("BEGIN IMMEDIATE");
    setTransactionState(this.runner, true);
    const batch = new Batch();
    this.batch = batch;
    // After this turn's I/O callbacks, whose transactions join it (a read or a full batch may commit it sooner).
    setImmediate(() => void this.serially(async () => (this.batch === batch ? this.commit() : undefined)));
    try {
      const value = await work(this.runner.manager);
      this.ensureTransaction();
      return { value, batch };
    } catch (error) {
      // Nothing else is in the batch yet.
      this.batch = null;
      try {
        this.rollback();
      } finally {
        batch.resolve();
      }
      throw error;
    }
  }

  /** This transaction in a savepoint of the open batch: when it fails, it is rolled back alone. */
  private async join<T>(batch: Batch, work: (manager: EntityManager) => Promise<T>): Promise<{ value: T; batch: Batch }> {
    batch.transactions++;
    this.run("SAVEPOINT batched");
    try {
      const value = await work(this.runner.manager);
      this.ensureTransaction();
      this.run("RELEASE batched");
      return { value, batch };
    } catch (error) {
      try {
        this.ensureTransaction();
        this.run("ROLLBACK TO batched");
        this.run("RELEASE batched");
      } catch {
        // SQLite rolled back the whole transaction (a full disk, an I/O error), or this savepoint could not be
        // undone alone: the batch fails as a whole.
        this.abandon(batch, error);
      }
      throw error;
    }
  }

  /**
   * SQLite may end the transaction by itself (a full disk, an I/O error), savepoints and all, even under work
   * that caught the error and went on; statements after that would each commit on their own.
   */
  private ensureTransaction(): void {
    if (!this.connection.inTransaction) throw new Error("SQLite rolled back the transaction before it was committed");
  }

  private commit(): void {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    try {
      this.run("COMMIT");
      setTransactionState(this.runner, false);
      batch.resolve();
    } catch (error) {
      try {
        this.rollback();
      } finally {
        batch.reject(error);
      }
    }
  }

  private rollback(): void {
    try {
      if (this.connection.inTransaction) this.run("ROLLBACK");
    } finally {
      setTransactionState(this.runner, false);
    }
  }

  /** The batch's transaction is lost: every transaction in it fails, and the next one opens a new batch. */
  private abandon(batch: Batch, cause: unknown): void {
    if (this.batch === batch) this.batch = null;
    try {
      this.rollback();
    } finally {
      batch.reject(new Error("SQLite rolled back the transaction: another transaction committed with it failed", { cause }));
    }
  }

  /**
   * A transaction statement, prepared once, on TypeORM's connection: TypeORM's own transaction calls went through
   * two event broadcasts and an asynchronous query each, several times a transaction. Logged as TypeORM logs.
   */
  private run(sql: string): void {
    this.dataSource.logger.logQuery(sql, []);
    preparedStatement(this.connection, sql).run();
  }

  private get runner(): QueryRunner {
    return this.dataSource.createQueryRunner();
  }

  private get connection(): SqliteConnection {
    return sqliteConnectionOf(this.dataSource);
  }
}

/**
 * TypeORM's bookkeeping of its one SQLite connection, kept in step with the transaction this class runs on it:
 * with it, TypeORM's own methods inside a transaction (`save`, a nested `transaction`) use savepoints instead of
 * starting a transaction of their own.
 */
function setTransactionState(runner: QueryRunner, active: boolean): void {
  Object.assign(runner, { isTransactionActive: active, transactionDepth: active ? 1 : 0 });
}
