import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

/** Whether a process with this id is running on this machine. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A lock between processes sharing one SQLite file: an exclusively created lock file holding the owner's pid.
 * A lock left by a process that died is taken over. SQLite's own locks cannot do this job: a deferred
 * transaction that must upgrade to writing fails at once with SQLITE_BUSY instead of waiting.
 */
export async function withFileLock<T>(lockPath: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const descriptor = openSync(lockPath, "wx");
      writeSync(descriptor, String(process.pid));
      closeSync(descriptor);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number.parseInt(readFileOrEmpty(lockPath), 10);
      if (Number.isInteger(owner) && owner > 0 && !isRunning(owner)) {
        removeQuietly(lockPath);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`could not take the lock ${lockPath} (held by process ${owner})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    removeQuietly(lockPath);
  }
}

function readFileOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
