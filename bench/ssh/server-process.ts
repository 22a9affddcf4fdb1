import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";

/** The messages between the benchmark and a server it runs in a child process (the gateway, a bare ssh2 server). */
export type ServerRequest =
  | { type: "prepare"; count: number; publicKey: string }
  | { type: "cpu" }
  | { type: "verified"; usernames: string[] }
  /** Starts the CPU profiler, or stops it and writes the profile to `file`. */
  | { type: "profile"; file: string | null };

export type ServerReply =
  | { type: "ready"; port: number }
  | { type: "prepared"; usernames: string[] }
  | { type: "cpu"; microseconds: number }
  | { type: "verified"; count: number }
  | { type: "profile" };

/**
 * Answers the benchmark's requests in a server child process; `handle` does the server-specific part. When the
 * benchmark lets go (disconnect), `stop` cleans up before the process exits.
 */
export function serveBenchmarkRequests(handle: {
  prepare(count: number, publicKey: string): Promise<string[]>;
  verified(usernames: string[]): Promise<number>;
  stop?(): Promise<void>;
}): void {
  const send = (reply: ServerReply) => process.send?.(reply);
  const profiler = new Session();
  process.on("message", (request: ServerRequest) => {
    if (request.type === "cpu") {
      const { user, system } = process.cpuUsage();
      send({ type: "cpu", microseconds: user + system });
    } else if (request.type === "prepare") {
      void handle.prepare(request.count, request.publicKey).then((usernames) => send({ type: "prepared", usernames }));
    } else if (request.type === "verified") {
      void handle.verified(request.usernames).then((count) => send({ type: "verified", count }));
    } else {
      void profile(profiler, request.file).then(() => send({ type: "profile" }));
    }
  });
  process.on("disconnect", () => {
    void (handle.stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
  });
}

async function profile(profiler: Session, file: string | null): Promise<void> {
  if (file === null) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
    return;
  }
  const { profile: taken } = await profiler.post("Profiler.stop");
  writeFileSync(file, JSON.stringify(taken));
  profiler.disconnect();
}
