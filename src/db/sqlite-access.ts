import type { DataSource, EntityManager, QueryRunner } from "typeorm";

/** Transactions in one COMMIT at most: a bound on how long the batch holds SQLite's write lock. */
const MAX_TRANSACTIONS_PER_COMMIT = 64;

interface SqliteConnection {
  readonly inTransaction: boolean;
}

/** One COMMIT's worth of transactions: their callers hear of their success once it is done. */
class Batch {
  transactions: number;
  readonly committed: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.transactions = 1;
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
 * the statements themselves 5 to 15 µs. What each caller sees is unchanged:
 * - a transaction that throws is rolled back to its savepoint, alone, and its caller gets the error;
 * - a caller hears of its transaction's success only once the COMMIT is done, and a COMMIT that fails fails
 *   every transaction in it, so nothing is reported saved that is not;
 * - a read first commits the open batch, so it never sees rows that are not committed.
 */
export class SqliteAccess {
  private tail: Promise<unknown> = Promise.resolve();
  private batch: Batch | null = null;

  constructor(private readonly dataSource: DataSource) {}

  read<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.serially(async () => {
      await this.commit();
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
    return this.serially(() => this.commit());
  }

  private serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A new batch, with this transaction first. It needs no savepoint: when it fails, it is the whole batch. */
  private async begin<T>(work: (manager: EntityManager) => Promise<T>): Promise<{ value: T; batch: Batch }> {
    await this.commit();
    await this.runner.startTransaction();
    const batch = new Batch();
    this.batch = batch;
    // After this turn's I/O callbacks, whose transactions join it (a read or a full batch may commit it sooner).
    setImmediate(() => void this.serially(() => (this.batch === batch ? this.commit() : Promise.resolve())));
    try {
      return { value: await work(this.runner.manager), batch };
    } catch (error) {
      this.batch = null;
      await this.rollback();
      batch.resolve();
      throw error;
    }
  }

  /** This transaction in a savepoint of the open batch: when it fails, it is rolled back alone. */
  private async join<T>(batch: Batch, work: (manager: EntityManager) => Promise<T>): Promise<{ value: T; batch: Batch }> {
    batch.transactions++;
    try {
      // The batch's transaction is open on TypeORM's one connection, so TypeORM makes this one a savepoint.
      return { value: await this.dataSource.transaction(work), batch };
    } catch (error) {
      // Some errors (a full disk, an I/O error) make SQLite roll back the whole transaction, savepoints and all.
      if (!this.connection.inTransaction) this.abandon(batch, error);
      throw error;
    }
  }

  private async commit(): Promise<void> {
    const batch = this.batch;
    if (batch === null) return;
    this.batch = null;
    try {
      await this.runner.commitTransaction();
      batch.resolve();
    } catch (error) {
      await this.rollback();
      batch.reject(error);
    }
  }

  private async rollback(): Promise<void> {
    if (this.connection.inTransaction) await this.runner.rollbackTransaction().catch(() => undefined);
    resetTransactionState(this.runner);
  }

  /** The batch's transaction is gone: every transaction in it fails, and the next one opens a new batch. */
  private abandon(batch: Batch, cause: unknown): void {
    if (this.batch === batch) this.batch = null;
    resetTransactionState(this.runner);
    batch.reject(new Error("SQLite rolled back the transaction: another transaction committed with it failed", { cause }));
  }

  private get runner(): QueryRunner {
    return this.dataSource.createQueryRunner();
  }

  private get connection(): SqliteConnection {
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  }
}

/**
 * TypeORM's bookkeeping of its one SQLite connection, set back to "no transaction" once SQLite has none: its
 * own rollback of a savepoint that SQLite already discarded fails and leaves it counting one.
 */
function resetTransactionState(runner: QueryRunner): void {
  Object.assign(runner, { isTransactionActive: false, transactionDepth: 0 });
}
