import { execFileSync } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSshServer } from "../../src/ssh/ssh-server.js";
import { databaseKinds } from "../support/databases.js";
import { startTestGateway } from "../support/gateway.js";
import { KeyRing, runProcess } from "./support/openssh.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

interface RawConnection {
  /** Everything the server sent. */
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
  send(text: string): void;
  destroy(): void;
}

/** A plain TCP connection to the SSH port that speaks only when told to. */
async function connectRaw(port: number): Promise<RawConnection> {
  const socket = net.connect(port, "127.0.0.1");
  let received = "";
  let closed = false;
  socket.on("data", (chunk) => (received += chunk.toString("latin1")));
  socket.on("error", () => undefined);
  const closedPromise = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  return {
    received: () => received,
    closed: closedPromise,
    isClosed: () => closed,
    send: (text) => socket.write(text),
    destroy: () => socket.destroy(),
  };
}

function keyscan(port: number): Promise<string[]> {
  return runProcess("/usr/bin/ssh-keyscan", ["-p", String(port), "-t", "ed25519,rsa", "127.0.0.1"], undefined, 20_000).then((result) =>
    result.stdout
      .split("\n")
      .filter((line) => line.startsWith("["))
      .map((line) => line.split(" ").slice(1).join(" "))
      .sort(),
  );
}

describe.each(databaseKinds())("the SSH listener on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind, {
      SSH_MAX_CONNECTIONS_PER_IP: "2",
      SSH_LOGIN_GRACE_SECONDS: "1",
      SSH_IDLE_TIMEOUT_SECONDS: "3",
    });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("serves the ed25519 and RSA host keys kept in the database", async () => {
    const served = await keyscan(bed.gateway.sshPort);

    expect(bed.gateway.hostKeys.map((key) => key.algorithm).sort()).toEqual(["ssh-ed25519", "ssh-rsa"]);
    expect(served).toEqual(bed.gateway.hostKeys.map((key) => key.publicKeySsh).sort());
  });

  it("logs the host key fingerprints when it starts", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const server = await startSshServer({
      config: { ...bed.gateway.config, sshPort: 0 },
      logins: bed.gateway.services.sshLogins,
      hostKeys: bed.gateway.hostKeys,
      logger,
      metrics: bed.gateway.metrics,
    });
    await server.close();

    const started = lines.map((line) => JSON.parse(line) as { msg: string; hostKeys?: string[] }).find((entry) => entry.hostKeys);
    expect(started?.hostKeys).toEqual(bed.gateway.hostKeys.map((key) => `${key.algorithm} ${key.sha256}`));
    expect(started?.hostKeys?.every((line) => /^ssh-(ed25519|rsa) SHA256:[A-Za-z0-9+/]{43}$/.test(line))).toBe(true);
  });

  it("serves host keys from SSH_HOST_KEY_FILES instead when given", async () => {
    const keys = new KeyRing();
    const file = path.join(keys.directory, "host_ed25519");
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", file]);
    const gateway = await startTestGateway(kind, { SSH_HOST_KEY_FILES: file });
    try {
      const publicKey = execFileSync("/usr/bin/ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }).split(" ").slice(0, 2).join(" ");
      expect(await keyscan(gateway.sshPort)).toEqual([publicKey]);
    } finally {
      await gateway.stop();
      keys.remove();
    }
  });

  it("does not offer Diffie-Hellman group exchange, which ssh2 cannot do as a server", async () => {
    const result = await bed.ssh("anyone", { args: ["-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256"] });

    expect(result.stderr).toContain("no matching key exchange method found");
    expect(result.code).toBe(255);
  });

  it.each(["curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group16-sha512", "diffie-hellman-group14-sha256"])(
    "completes the key exchange %s with OpenSSH",
    async (kex) => {
      const key = bed.keys.generate("ed25519");
      const session = await bed.verifySession([key]);

      const result = await bed.ssh(session, { keys: [key], args: ["-o", `KexAlgorithms=${kex}`] });

      expect(result.stdout).toBe("Verified.\n");
    },
  );

  it("refuses connections over SSH_MAX_CONNECTIONS_PER_IP", async () => {
    const first = await connectRaw(bed.gateway.sshPort);
    const second = await connectRaw(bed.gateway.sshPort);
    const third = await connectRaw(bed.gateway.sshPort);
    try {
      await third.closed;
      expect(third.received()).toBe("");
      await expect.poll(() => first.received()).toMatch(/^SSH-2\.0-/);
      expect(first.isClosed()).toBe(false);
      expect(second.isClosed()).toBe(false);
    } finally {
      first.destroy();
      second.destroy();
    }
    await Promise.all([first.closed, second.closed]);
    const afterwards = await connectRaw(bed.gateway.sshPort);
    await expect.poll(() => afterwards.received()).toMatch(/^SSH-2\.0-/);
    afterwards.destroy();
  });

  it("drops a client that does not speak SSH, and goes on serving", async () => {
    const connection = await connectRaw(bed.gateway.sshPort);
    connection.send("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    await connection.closed;

    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    expect((await bed.ssh(session, { keys: [key] })).stdout).toBe("Verified.\n");
  });

  it("closes a connection that has not authenticated SSH_LOGIN_GRACE_SECONDS after its first byte", async () => {
    const connection = await connectRaw(bed.gateway.sshPort);
    connection.send("SSH-2.0-SlowClient\r\n");

    await connection.closed;

    expect(connection.received()).toMatch(/^SSH-2\.0-SSHVerifyGateway\r\n/);
  });

  it("closes a connection that never sends a byte at SSH_IDLE_TIMEOUT_SECONDS, not at the login deadline", async () => {
    const connection = await connectRaw(bed.gateway.sshPort);

    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(connection.isClosed()).toBe(false);
    await connection.closed;
  });

  it("closes an authenticated connection that does nothing (ssh -N) at SSH_IDLE_TIMEOUT_SECONDS", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);

    const result = await bed.ssh(session, { keys: [key], args: ["-N"] });

    expect(result.code).toBe(255);
    expect((await bed.get(session)).status).toBe("verified");
  });
});
