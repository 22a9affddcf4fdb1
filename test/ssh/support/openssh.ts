import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export type KeyType = "ed25519" | "ecdsa" | "rsa";

export interface TestKey {
  /** The private key file, for `ssh -i`. */
  path: string;
  /** The OpenSSH public key line, as a session's `public_key`. */
  publicKey: string;
  /** `SHA256:...` as `ssh-keygen -l` prints it. */
  sha256: string;
  /** `MD5:aa:bb:...` as `ssh-keygen -l -E md5` prints it. */
  md5: string;
}

/** Keys made with the real ssh-keygen in a temporary directory. */
export class KeyRing {
  readonly directory = mkdtempSync(path.join(tmpdir(), "sshverify-keys-"));
  private count = 0;

  /** `bits` defaults to 2048 for RSA and 256 for ecdsa. */
  generate(type: KeyType, bits?: number): TestKey {
    const file = path.join(this.directory, `${type}-${++this.count}`);
    const size = bits ?? (type === "rsa" ? 2048 : type === "ecdsa" ? 256 : undefined);
    const sizeArgs = size === undefined ? [] : ["-b", String(size)];
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", type, ...sizeArgs, "-N", "", "-C", `test-${this.count}`, "-f", file]);
    return {
      path: file,
      publicKey: readFileSync(`${file}.pub`, "utf8").trim(),
      sha256: fingerprint(file, "sha256"),
      md5: fingerprint(file, "md5"),
    };
  }

  remove(): void {
    rmSync(this.directory, { recursive: true, force: true });
  }
}

function fingerprint(file: string, hash: "sha256" | "md5"): string {
  const line = execFileSync("/usr/bin/ssh-keygen", ["-l", "-E", hash, "-f", `${file}.pub`], { encoding: "utf8" });
  return line.split(" ")[1] ?? "";
}

export interface SshOptions {
  port: number;
  user: string;
  keys?: TestKey[];
  /** Written to ssh's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  /** Keeps ssh's stdin open and silent, like a person who never answers. */
  silentStdin?: boolean;
  /** More ssh arguments before the destination (e.g. `-tt`, `-N`, `-o BatchMode=yes`). */
  args?: string[];
  /** More environment variables for ssh (e.g. DISPLAY). */
  env?: Record<string, string>;
  /** A remote command, which the gateway never runs. */
  command?: string;
  timeoutMs?: number;
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The options every test uses: no config file, no agent, no known_hosts, only the keys given. */
export function baseSshArgs(port: number): string[] {
  return [
    "-F", "/dev/null",
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-o", "PreferredAuthentications=publickey,keyboard-interactive",
    "-o", "ConnectTimeout=10",
    "-p", String(port),
  ];
}

/** Runs the real OpenSSH client to completion (killed after `timeoutMs`, then `code` is null). */
export function runSsh(options: SshOptions): Promise<SshResult> {
  const identities = (options.keys ?? []).flatMap((key) => ["-i", key.path]);
  const args = [
    ...baseSshArgs(options.port),
    ...identities,
    ...(options.args ?? []),
    `${options.user}@127.0.0.1`,
    ...(options.command ? [options.command] : []),
  ];
  const input = options.silentStdin ? { silent: true as const } : options.input;
  return runProcess("/usr/bin/ssh", args, input, options.timeoutMs ?? 20_000, options.env);
}

/** `input` is written to stdin, which is then closed; `{silent: true}` keeps it open; undefined is /dev/null. */
export function runProcess(
  command: string,
  args: string[],
  input: string | { silent: true } | undefined,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const stdio = [input === undefined ? "ignore" : "pipe", "pipe", "pipe"] as const;
    const child = spawn(command, args, { stdio: [...stdio], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    if (typeof input === "string") child.stdin?.end(input);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
