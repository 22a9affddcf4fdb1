import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const SSHD_PATH = "/usr/sbin/sshd";

export interface PrivateSshd {
  port: number;
  version: string;
  /** CPU time of the listener and every connection process it has reaped, in microseconds. */
  cpuMicroseconds(): Promise<number>;
  stop(): Promise<void>;
}

/** Why the comparison cannot run here, or null when it can. */
export function sshdUnavailable(): string | null {
  if (!existsSync(SSHD_PATH)) return `${SSHD_PATH} is not installed (Debian: apt-get install -y openssh-server)`;
  if (process.getuid?.() !== 0) return "sshd's privilege separation needs root";
  return null;
}

/**
 * OpenSSH's sshd on 127.0.0.1 with a configuration of its own in a temp directory: an ed25519 host key (the
 * gateway's preferred one too), public-key authentication of the user running it against one authorized key.
 */
export async function startPrivateSshd(authorizedKey: string): Promise<PrivateSshd> {
  const directory = mkdtempSync(path.join(tmpdir(), "sshverify-sshd-"));
  const hostKey = path.join(directory, "ssh_host_ed25519_key");
  execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  writeFileSync(path.join(directory, "authorized_keys"), `${authorizedKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(directory, "sshd_config");
  writeFileSync(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(directory, "authorized_keys")}`,
      `PidFile ${path.join(directory, "sshd.pid")}`,
      "UsePAM no",
      "StrictModes no",
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UseDNS no",
      // The default 10:30:100 drops unauthenticated connections at random beyond 10; the load runs up to 32.
      "MaxStartups 200",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true }); // the privilege separation directory
  const child = spawn(SSHD_PATH, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitForListener(port, exited, () => stderr);
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const pid = child.pid!;
  return {
    port,
    version: spawnSync(SSHD_PATH, ["-V"], { encoding: "utf8" }).stderr.trim(),
    cpuMicroseconds: async () => {
      await waitForNoChildren(pid);
      return processCpuMicroseconds(pid);
    },
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** utime + stime + cutime + cstime (fields 14-17 of /proc/<pid>/stat), in microseconds. */
function processCpuMicroseconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
  return (ticks / clockTicksPerSecond()) * 1_000_000;
}

let ticksPerSecond: number | null = null;
function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  return ticksPerSecond;
}

/** Connection processes count in cutime/cstime only once the listener has reaped them. */
async function waitForNoChildren(pid: number): Promise<void> {
  for (let waited = 0; waited < 10_000; waited += 50) {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    if (children === "") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("sshd connection processes did not exit");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForListener(port: number, exited: Promise<void>, stderr: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let attempt = 0; attempt < 100; attempt++) {
    if (gone) throw new Error(`sshd exited: ${stderr().trim()}`);
    const connected = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (connected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on port ${port}: ${stderr().trim()}`);
}
