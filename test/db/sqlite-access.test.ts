import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDataSource, StatementCounter } from "../../src/db/data-source.js";
import { Database } from "../../src/db/database.js";

interface SqliteReader {
  prepare(sql: string): { pluck(): { all(): unknown[] }; run(): unknown };
  close(): void;
}
/** better-sqlite3 itself (it ships no types): a second connection, apart from TypeORM's. */
const SqliteConnection = createRequire(import.meta.url)("better-sqlite3") as new (
  file: string,
  options: { readonly?: boolean; timeout?: number },
) => SqliteReader;

/** Every statement, in order, as TypeORM's logger hears of it. */
class StatementLog extends StatementCounter {
  readonly statements: string[] = [];
  override logQuery(query?: string): void {
    super.logQuery();
    this.statements.push(String(query));
  }
}

describe("SQLite: one queue, and the transactions of one turn of the event loop in one COMMIT", () => {
  let directory: string;
  let file: string;
  let log: StatementLog;
  let database: Database;

  beforeEach(async () => {
    directory = mkdtempSync(path.join(tmpdir(), "sshverify-sqlite-access-"));
    file = path.join(directory, "test.db");
    log = new StatementLog();
    const dataSource = createDataSource(`sqlite:${file}`, log);
    await dataSource.initialize();
    database = new Database(dataSource, log, "sqlite", file);
    await database.read(async (manager) => {
      await manager.query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)");
      await manager.query("CREATE TABLE parents (id INTEGER PRIMARY KEY)");
      await manager.query(
        "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)",
      );
    });
    log.statements.length = 0;
  });

  afterEach(async () => {
    await database.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const insert = (body: string) =>
    database.transaction(async ({ manager }) => {
      await manager.query("INSERT INTO notes (body) VALUES (?)", [body]);
      return body;
    });

  /** What another connection sees: only committed rows. */
  const committedNotes = () => {
    const reader = new SqliteConnection(file, { readonly: true });
    try {
      return reader.prepare("SELECT body FROM notes ORDER BY id").pluck().all();
    } finally {
      reader.close();
    }
  };

  const count = (statement: string) => log.statements.filter((sql) => sql.startsWith(statement)).length;
  const statuses = (results: PromiseSettledResult<unknown>[]) => results.map((result) => result.status);
  const reasonOf = (result: PromiseSettledResult<unknown> | undefined) => String((result as PromiseRejectedResult).reason);

  it("commits the transactions that arrive in one turn together, each after the first in a savepoint of its own", async () => {
    await expect(Promise.all(["a", "b", "c"].map(insert))).resolves.toEqual(["a", "b", "c"]);
    expect(count("BEGIN")).toBe(1);
    expect(count("SAVEPOINT")).toBe(2);
    expect(count("COMMIT")).toBe(1);
    expect(committedNotes()).toEqual(["a", "b", "c"]);
  });

  it("answers a caller only once its transaction is committed, so another connection sees its rows by then", async () => {
    const first = insert("a");
    void insert("b");
    await first;
    expect(committedNotes()).toEqual(["a", "b"]);
  });

  it("commits transactions of different turns separately", async () => {
    await insert("a");
    await insert("b");
    expect(count("COMMIT")).toBe(2);
    expect(count("SAVEPOINT")).toBe(0);
  });

  it("rolls back a failing transaction of a batch alone; the others commit", async () => {
    const results = await Promise.allSettled([insert("a"), insert("a"), insert("b")]);
    expect(statuses(results)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(reasonOf(results[1])).toMatch(/UNIQUE constraint failed/);
    expect(committedNotes()).toEqual(["a", "b"]);
    expect(count("COMMIT")).toBe(1);
  });

  it("rolls back the first transaction of a batch alone when it fails; the ones after it commit", async () => {
    const failing = database.transaction(async ({ manager }) => {
      await manager.query("INSERT INTO notes (body) VALUES ('never')");
      throw new Error("the work failed");
    });
    const results = await Promise.allSettled([failing, insert("b"), insert("c")]);
    expect(statuses(results)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    expect(reasonOf(results[0])).toMatch(/the work failed/);
    expect(committedNotes()).toEqual(["b", "c"]);
  });

  it("fails every transaction of a batch whose COMMIT fails, stores nothing of them, and goes on", async () => {
    // A deferred foreign key is checked at COMMIT: the orphan fails the batch's COMMIT.
    const orphan = database.transaction(({ manager }) => manager.query("INSERT INTO children (parent_id) VALUES (42)"));
    const results = await Promise.allSettled([insert("a"), orphan, insert("b")]);
    expect(statuses(results)).toEqual(["rejected", "rejected", "rejected"]);
    for (const result of results) expect(reasonOf(result)).toMatch(/FOREIGN KEY constraint failed/);
    expect(committedNotes()).toEqual([]);
    await expect(insert("c")).resolves.toBe("c");
    expect(committedNotes()).toEqual(["c"]);
  });

  /** What SQLite itself does on SQLITE_FULL or SQLITE_IOERR: the whole transaction is gone, savepoints and all. */
  const failWithRollback = () =>
    database.transaction(async ({ manager }) => {
      await manager.query("INSERT INTO notes (body) VALUES ('lost')");
      await manager.query("ROLLBACK");
      throw new Error("disk I/O error");
    });

  it("fails every transaction of a batch that SQLite rolled back as a whole (as on an I/O error), and goes on", async () => {
    const first = insert("a");
    const failing = failWithRollback();
    const after = insert("b");
    const results = await Promise.allSettled([first, failing, after]);
    expect(statuses(results)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(reasonOf(results[0])).toMatch(/SQLite rolled back the transaction/);
    expect(reasonOf(results[1])).toMatch(/disk I\/O error/);
    expect(committedNotes()).toEqual(["b"]);
    await expect(Promise.all([insert("c"), insert("d")])).resolves.toEqual(["c", "d"]);
    expect(committedNotes()).toEqual(["b", "c", "d"]);
  });

  it("fails only the first transaction of a batch when SQLite rolls back the whole of it then", async () => {
    const failing = failWithRollback();
    const results = await Promise.allSettled([failing, insert("a"), insert("b")]);
    expect(statuses(results)).toEqual(["rejected", "fulfilled", "fulfilled"]);
    expect(committedNotes()).toEqual(["a", "b"]);
  });

  /** A transaction whose work goes on after SQLite ended the transaction under it (an I/O error it caught). */
  const carryOnAfterRollback = () =>
    database.transaction(async ({ manager }) => {
      await manager.query("INSERT INTO notes (body) VALUES ('lost')");
      await manager.query("ROLLBACK");
      await manager.query("INSERT INTO notes (body) VALUES ('on its own')");
      return "carried on";
    });

  it("fails the first transaction of a batch whose work went on after SQLite ended the transaction, and keeps the next apart", async () => {
    const results = await Promise.allSettled([carryOnAfterRollback(), insert("next")]);
    expect(statuses(results)).toEqual(["rejected", "fulfilled"]);
    expect(reasonOf(results[0])).toMatch(/SQLite rolled back the transaction before it was committed/);
    // The statement after SQLite's rollback committed on its own, as it would have without batches; nothing else did.
    expect(committedNotes()).toEqual(["on its own", "next"]);
  });

  it("fails every transaction of a batch when a later one's work went on after SQLite ended the transaction", async () => {
    const first = insert("a");
    const carriedOn = carryOnAfterRollback();
    const after = insert("b");
    const results = await Promise.allSettled([first, carriedOn, after]);
    expect(statuses(results)).toEqual(["rejected", "rejected", "fulfilled"]);
    expect(reasonOf(results[0])).toMatch(/another transaction committed with it failed/);
    expect(committedNotes()).toEqual(["on its own", "b"]);
  });

  it("holds the write lock from a batch's start, so another process's commit cannot fail the batch's later writes", async () => {
    const other = new SqliteConnection(file, { timeout: 0 });
    let otherWrite: unknown = "not tried";
    try {
      const readOnly = database.transaction(async ({ manager }) => {
        await manager.query("SELECT COUNT(*) FROM notes");
        try {
          other.prepare("INSERT INTO notes (body) VALUES ('other process')").run();
          otherWrite = "committed";
        } catch (error) {
          otherWrite = error;
        }
        return "read";
      });
      await expect(Promise.all([readOnly, insert("ours")])).resolves.toEqual(["read", "ours"]);
      expect(String(otherWrite)).toMatch(/database is locked/);
      other.prepare("INSERT INTO notes (body) VALUES ('other process')").run();
    } finally {
      other.close();
    }
    expect(committedNotes()).toEqual(["ours", "other process"]);
  });

  it("commits the open batch before a read, which sees it and nothing uncommitted", async () => {
    const pending = insert("a");
    const rows = await database.read((manager) => manager.query("SELECT body FROM notes"));
    expect(rows).toEqual([{ body: "a" }]);
    await pending;
    expect(log.statements.indexOf("COMMIT")).toBeLessThan(log.statements.indexOf("SELECT body FROM notes"));
  });

  it("commits at most 64 transactions at once", async () => {
    const bodies = Array.from({ length: 100 }, (_, index) => `note ${index}`);
    await expect(Promise.all(bodies.map(insert))).resolves.toEqual(bodies);
    expect(count("COMMIT")).toBe(2);
    expect(committedNotes()).toEqual(bodies);
  });

  it("commits an open batch when the database closes", async () => {
    const pending = insert("a");
    await database.close();
    await expect(pending).resolves.toBe("a");
    expect(committedNotes()).toEqual(["a"]);
  });
});
