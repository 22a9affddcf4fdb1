import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import ssh2, { type ExecOptions } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { freePort } from "../support/processes.js";
import { baseSshArgs, runProcess } from "./support/openssh.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

const { Client } = ssh2;

/** Connects through a local forward and resolves with whatever came back before the tunnel closed. */
function readThroughTunnel(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("error", () => resolve(null));
    socket.on("close", () => resolve(received));
    socket.on("connect", () => socket.write("GET /healthz HTTP/1.0\r\n\r\n"));
  });
}

describe.each(databaseKinds())("what an SSH session may not do, on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("refuses local port forwarding (ssh -N -L)", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });
    const localPort = await freePort();
    const forward = `127.0.0.1:${localPort}:127.0.0.1:${bed.gateway.httpPort}`;
    const child = spawn("/usr/bin/ssh", [...baseSshArgs(bed.gateway.sshPort), "-i", key.path, "-N", "-L", forward, `${session.connectionIdentifier}@127.0.0.1`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    try {
      // The local listener exists once ssh has authenticated; until then connecting fails.
      let answer: string | null = null;
      await expect
        .poll(async () => (answer = await readThroughTunnel(localPort)), { timeout: 15_000, interval: 200 })
        .not.toBeNull();
      expect(answer).toBe("");
      await expect.poll(() => stderr, { timeout: 5000 }).toContain("open failed: administratively prohibited");
    } finally {
      child.kill();
    }
  });

  it("refuses remote port forwarding (ssh -N -R)", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });

    const result = await bed.ssh(session, {
      keys: [key],
      args: ["-N", "-o", "ExitOnForwardFailure=yes", "-R", `0:127.0.0.1:${bed.gateway.httpPort}`],
    });

    expect(result.stderr).toContain("remote port forwarding failed");
    expect(result.code).toBe(255);
  });

  it("refuses the sftp subsystem", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });
    const args = [...baseSshArgs(bed.gateway.sshPort).map((arg) => (arg === "-p" ? "-P" : arg)), "-i", key.path, "-b", "-"];

    const result = await runProcess("/usr/bin/sftp", [...args, `${session.connectionIdentifier}@127.0.0.1`], "ls\n", 20_000);

    expect(result.stderr).toContain("subsystem request failed");
    expect(result.code).not.toBe(0);
  });

  it("refuses X11 forwarding", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });

    const result = await bed.ssh(session, { keys: [key], args: ["-X"], env: { DISPLAY: "127.0.0.1:99" }, command: "true" });

    expect(result.stderr).toContain("X11 forwarding request failed");
    expect(result.stdout).toBe("Verified.\n");
  });

  it("refuses agent forwarding (OpenSSH asks without wanting a reply, so ssh2's client shows the refusal)", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });
    const client = new Client();
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("ready", () => resolve()).once("error", reject);
        client.connect({
          host: "127.0.0.1",
          port: bed.gateway.sshPort,
          username: session.connectionIdentifier,
          privateKey: readFileSync(key.path),
          agent: path.join(bed.keys.directory, "agent.sock"),
          agentForward: true,
        });
      });
      // ssh2 1.17.0 reads `agentForward` from the exec options; @types/ssh2 does not list it.
      const execOptions: ExecOptions & { agentForward: boolean } = { agentForward: true };
      const refusal = await new Promise<Error | undefined>((resolve) => {
        client.exec("true", execOptions, (error, channel) => {
          channel?.close();
          resolve(error);
        });
      });
      expect(refusal?.message).toBe("Unable to request agent forwarding");
    } finally {
      client.end();
    }
  });

  it("never runs an exec command: it only shows the message and the result", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { sshMessage: "Hello" });
    const marker = path.join(bed.keys.directory, "exec-ran");

    const result = await bed.ssh(session, { keys: [key], command: `touch ${marker}` });

    expect(result.stdout).toBe("Hello\nVerified.\n");
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
  });
});
