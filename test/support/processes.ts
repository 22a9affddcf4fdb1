import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const MAIN = path.join(ROOT, "dist/src/main.js");
export const CLI = path.join(ROOT, "dist/src/cli/main.js");

/** A free TCP port on 127.0.0.1 (for child processes, which must be told their port up front). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with a hard timeout. */
export function run(command: string, args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function runCli(args: string[], env: Record<string, string>): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], env);
}

/** Starts `node dist/src/main.js` and resolves once /healthz answers. */
export async function startServiceProcess(env: Record<string, string>, timeoutMs = 30_000) {
  const port = Number(env.PORT);
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${output}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (response.ok) return { child, url: `http://127.0.0.1:${port}`, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`service did not answer /healthz within ${timeoutMs} ms: ${output}`);
}

export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  const exited = child.exitCode !== null || child.signalCode !== null;
  const pipes = [child.stdout, child.stderr].filter((stream) => stream !== null);
  if (exited && pipes.every((stream) => stream.closed)) return child.exitCode;
  // "close" comes once the output pipes are drained too, so output() then holds everything the process wrote.
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  if (!exited) child.kill(signal);
  return closed;
}
