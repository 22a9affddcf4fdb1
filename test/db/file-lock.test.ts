import { mkdtempSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { withFileLock } from "../../src/db/file-lock.js";

describe("the lock file beside a SQLite database", () => {
  const directory = mkdtempSync(path.join(tmpdir(), "sshverify-lock-"));
  const lockPath = path.join(directory, "db.sqlite.migrations.lock");
  afterEach(() => rmSync(lockPath, { force: true }));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it("runs holders one after the other and removes the file afterwards", async () => {
    const events: string[] = [];
    const holder = (name: string) =>
      withFileLock(lockPath, async () => {
        events.push(`${name} in`);
        await new Promise((resolve) => setTimeout(resolve, 60));
        events.push(`${name} out`);
      }, 5_000);
    await Promise.all([holder("a"), holder("b")]);
    expect(events).toEqual(["a in", "a out", "b in", "b out"]);
    expect(existsSync(lockPath)).toBe(false);
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    writeFileSync(lockPath, "999999999");
    await expect(withFileLock(lockPath, async () => "done", 1_000)).resolves.toBe("done");
  });

  it("gives up with a clear error when a live process holds the lock past the timeout", async () => {
    writeFileSync(lockPath, String(process.pid));
    await expect(withFileLock(lockPath, async () => "never", 200)).rejects.toThrow(/could not take the lock .* \(held by process \d+\)/);
  });

  it("releases the lock when the work fails", async () => {
    await expect(withFileLock(lockPath, async () => Promise.reject(new Error("boom")), 1_000)).rejects.toThrow("boom");
    expect(existsSync(lockPath)).toBe(false);
  });
});
