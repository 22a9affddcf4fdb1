import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * Tests that run the real service or CLI as a process use the compiled build; build it once per run.
 * tsc emits even with type errors; those are the type-check's business (`npm run typecheck`), not this one's.
 */
export default function setup(): void {
  try {
    execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"], { stdio: "pipe" });
  } catch (error) {
    if (!existsSync("dist/src/main.js")) throw error;
  }
}
