import { execFileSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

describe.each(databaseKinds())("collect sessions over the real OpenSSH client on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("collects every key the client proves with multi_key, with the fingerprints ssh-keygen prints", async () => {
    const first = bed.keys.generate("ed25519");
    const second = bed.keys.generate("rsa");
    const session = await bed.create("collect", { multiKey: true });

    const result = await bed.ssh(session, { keys: [first, second] });

    expect(result.stdout).toBe("Collected 2 keys.\n");
    expect(result.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("completed");
    expect(detail.keys.map((key) => [key.publicKeySha256, key.publicKeyMd5])).toEqual([
      [first.sha256, first.md5],
      [second.sha256, second.md5],
    ]);
    expect(detail.keys.map((key) => key.publicKeySsh)).toEqual([first, second].map((key) => key.publicKey.split(" ").slice(0, 2).join(" ")));
    expect(detail.connections).toHaveLength(1);
    expect(detail.connections[0]?.keys.map((key) => key.publicKeySha256)).toEqual([first.sha256, second.sha256]);
  });

  it("never collects a certificate, only the plain key the client also offers", async () => {
    const authority = bed.keys.generate("ed25519");
    const key = bed.keys.generate("ed25519");
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-s", authority.path, "-I", "test", "-n", "someone", `${key.path}.pub`]);
    const session = await bed.create("collect", { multiKey: true });

    const result = await bed.ssh(session, { keys: [key], args: ["-o", `CertificateFile=${key.path}-cert.pub`] });

    expect(result.stdout).toBe("Collected 1 key.\n");
    const detail = await bed.get(session);
    expect(detail.keys.map((collected) => [collected.publicKeyAlgorithm, collected.publicKeySha256])).toEqual([["ssh-ed25519", key.sha256]]);
  });

  it("collects exactly the first proven key without multi_key", async () => {
    const first = bed.keys.generate("ecdsa");
    const second = bed.keys.generate("ed25519");
    const session = await bed.create("collect", {});

    const result = await bed.ssh(session, { keys: [first, second], args: ["-o", "BatchMode=yes"] });

    expect(result.stdout).toBe("Collected 1 key.\n");
    expect(result.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("completed");
    expect(detail.keys.map((key) => key.publicKeySha256)).toEqual([first.sha256]);
  });

  it("keeps collecting across connections with multi_connection until complete", async () => {
    const first = bed.keys.generate("ed25519");
    const second = bed.keys.generate("ed25519");
    const session = await bed.create("collect", { multiConnection: true, sshBanner: "Collecting keys", sshMessage: "Thanks!" });

    const one = await bed.ssh(session, { keys: [first] });
    const two = await bed.ssh(session, { keys: [second] });

    expect(one.stderr).toContain("Collecting keys\n");
    expect(one.stdout).toBe("Thanks!\nCollected 1 key.\n");
    expect(two.code).toBe(0);
    let detail = await bed.get(session);
    expect(detail.status).toBe("pending");
    expect(detail.connections.map((connection) => connection.keys.map((key) => key.publicKeySha256))).toEqual([
      [first.sha256],
      [second.sha256],
    ]);
    detail = await bed.gateway.services.sessions.complete(bed.context, "collect", session.id);
    expect(detail.status).toBe("completed");
    const afterwards = await bed.ssh(session, { keys: [first] });
    expect(afterwards.stderr).toContain("This session is already completed.\n");
    expect(afterwards.code).toBe(255);
  });

  it("ends a client with no key it can prove with a clear line, records the connection, and stays pending", async () => {
    const session = await bed.create("collect", { multiKey: true });
    const shortRsa = path.join(bed.keys.directory, "rsa-1024");
    execFileSync("/usr/bin/ssh-keygen", ["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", shortRsa]);

    const weakKey = await bed.ssh(session, { args: ["-i", shortRsa] });
    const noKey = await bed.ssh(session, { args: ["-i", path.join(bed.keys.directory, "missing")] });

    for (const result of [weakKey, noKey]) {
      expect(result.stdout).toContain("No key collected: your SSH client proved no ed25519, ecdsa or RSA (2048 bits or more) key.");
      expect(result.code).toBe(1);
    }
    const detail = await bed.get(session);
    expect(detail.status).toBe("pending");
    expect(detail.keys).toEqual([]);
    expect(detail.connections).toHaveLength(2);
    expect(detail.connections.every((connection) => connection.keys.length === 0)).toBe(true);
  });

  it("collects only after the y with must_confirm", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.create("collect", { mustConfirm: true });

    const declined = await bed.ssh(session, { keys: [key], args: ["-tt"], input: "n" });
    expect(declined.stdout).toContain("Press y to confirm: \r\nNot confirmed.\r\nNo key collected.\r\n");
    expect(declined.code).toBe(1);
    expect(await bed.get(session)).toMatchObject({ status: "pending", keys: [] });

    const confirmed = await bed.ssh(session, { keys: [key], args: ["-T"], input: "y\n" });
    expect(confirmed.stdout).toBe("Press y to confirm: \nCollected 1 key.\n");
    expect(confirmed.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("completed");
    expect(detail.keys.map((collected) => collected.publicKeySha256)).toEqual([key.sha256]);
  });

  it("collects at most SSH_MAX_KEY_OFFERS keys on one connection", async () => {
    const limited = await startSshTestBed(kind, { SSH_MAX_KEY_OFFERS: "2" });
    try {
      const offered = [limited.keys.generate("ed25519"), limited.keys.generate("ed25519"), limited.keys.generate("ed25519")];
      const session = await limited.create("collect", { multiKey: true });

      const result = await limited.ssh(session, { keys: offered });

      expect(result.stdout).toBe("Collected 2 keys.\n");
      expect((await limited.get(session)).keys.map((key) => key.publicKeySha256)).toEqual([offered[0]!.sha256, offered[1]!.sha256]);
    } finally {
      await limited.stop();
    }
  });

  it("refuses an expired collect session", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.create("collect", { timeout: 1 });
    await expect.poll(async () => (await bed.get(session)).status, { timeout: 5000, interval: 200 }).toBe("expired");

    const result = await bed.ssh(session, { keys: [key] });

    expect(result.stderr).toContain("This session has expired.\n");
    expect(result.code).toBe(255);
    expect((await bed.get(session)).keys).toEqual([]);
  });
});
