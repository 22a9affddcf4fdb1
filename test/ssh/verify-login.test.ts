import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import type { KeyType } from "./support/openssh.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

describe.each(databaseKinds())("verify sessions over the real OpenSSH client on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it.each<[string, KeyType, number | undefined]>([
    ["ssh-ed25519", "ed25519", undefined],
    ["ecdsa-sha2-nistp256", "ecdsa", 256],
    ["ecdsa-sha2-nistp384", "ecdsa", 384],
    ["ecdsa-sha2-nistp521", "ecdsa", 521],
    ["ssh-rsa (2048 bits)", "rsa", 2048],
  ])("verifies a person who holds the configured %s key", async (_name, type, bits) => {
    const key = bed.keys.generate(type, bits);
    const session = await bed.verifySession([key], { maxAttempts: 3 });

    const result = await bed.ssh(session, { keys: [key] });

    expect(result.stdout).toBe("Verified.\n");
    expect(result.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("verified");
    expect(detail.failedAttempts).toBe(0);
    expect(detail.keys[0]?.verifiedAt).toBeInstanceOf(Date);
    expect(detail.connections).toHaveLength(1);
    const [connection] = detail.connections;
    expect(connection).toMatchObject({ ipAddress: "127.0.0.1", clientVersion: expect.stringMatching(/^SSH-2\.0-OpenSSH_/) });
    expect(connection?.createdAt).toBeInstanceOf(Date);
    expect(connection?.keys).toHaveLength(1);
    expect(connection?.keys[0]).toMatchObject({
      sessionKeyId: detail.keys[0]?.id,
      publicKeySha256: key.sha256,
      publicKeyMd5: key.md5,
      verifiedAt: expect.any(Date),
    });
  });

  it("shows the connection and its matched key in the REST detail", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    await bed.ssh(session, { keys: [key] });

    const response = await bed.gateway.request("GET", `/api/v1/ssh/verify/sessions/${session.id}/`);

    expect(response.status).toBe(200);
    expect(response.json.status).toBe("verified");
    expect(response.json.connections).toEqual([
      {
        id: expect.any(String),
        ip_address: "127.0.0.1",
        client_version: expect.stringMatching(/^SSH-2\.0-OpenSSH_/),
        created_at: expect.stringMatching(/Z$/),
        keys: [expect.objectContaining({ public_key_sha256: key.sha256, verified_at: expect.stringMatching(/Z$/) })],
      },
    ]);
  });

  it("verifies with BatchMode=yes, where nothing can be typed", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);

    const result = await bed.ssh(session, { keys: [key], args: ["-o", "BatchMode=yes"] });

    expect(result.stdout).toBe("Verified.\n");
    expect(result.code).toBe(0);
    expect((await bed.get(session)).status).toBe("verified");
  });

  it("finds the configured key among several offered ones", async () => {
    const other = bed.keys.generate("ed25519");
    const key = bed.keys.generate("rsa");
    const session = await bed.verifySession([key]);

    const result = await bed.ssh(session, { keys: [other, key] });

    expect(result.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("verified");
    expect(detail.connections[0]?.keys.map((proven) => proven.publicKeySha256)).toEqual([key.sha256]);
  });

  it("lets a wrong key in only to read that it is not verified, and counts a failed attempt", async () => {
    const key = bed.keys.generate("ed25519");
    const wrong = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 3 });

    const result = await bed.ssh(session, { keys: [wrong] });

    expect(result.stdout).toBe("Not verified: 2 of 3 attempts left\n");
    expect(result.code).toBe(1);
    const detail = await bed.get(session);
    expect(detail).toMatchObject({ status: "pending", failedAttempts: 1 });
    expect(detail.keys[0]?.verifiedAt).toBeNull();
    expect(detail.connections).toHaveLength(1);
    expect(detail.connections[0]?.keys).toEqual([]);
  });

  it("answers a wrong key with Permission denied when the client cannot be let in, and still counts the attempt", async () => {
    const key = bed.keys.generate("ed25519");
    const wrong = bed.keys.generate("ecdsa");
    const session = await bed.verifySession([key], { maxAttempts: 2 });

    const result = await bed.ssh(session, { keys: [wrong], args: ["-o", "BatchMode=yes"] });

    expect(result.stderr).toContain("Permission denied (publickey,keyboard-interactive)");
    expect(result.code).toBe(255);
    await expect.poll(async () => (await bed.get(session)).failedAttempts, { timeout: 5000 }).toBe(1);
    expect((await bed.get(session)).status).toBe("pending");
  });

  it("fails the session at max_attempts failed connections, then refuses it", async () => {
    const key = bed.keys.generate("ed25519");
    const wrong = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 2 });

    expect((await bed.ssh(session, { keys: [wrong] })).stdout).toBe("Not verified: 1 of 2 attempts left\n");
    const last = await bed.ssh(session, { keys: [wrong] });
    expect(last.stdout).toBe("Not verified: no attempts left, this session has failed.\n");
    expect(last.code).toBe(1);
    expect(await bed.get(session)).toMatchObject({ status: "failed", failedAttempts: 2 });

    const afterwards = await bed.ssh(session, { keys: [key] });
    expect(afterwards.stderr).toContain("This session has failed and accepts no more logins.");
    expect(afterwards.code).toBe(255);
    expect((await bed.get(session)).connections).toHaveLength(2);
  });

  it("does not count a connection that offered no key at all", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 3 });

    const result = await bed.ssh(session, { args: ["-i", `${bed.keys.directory}/no-such-key`] });

    expect(result.stdout).toContain("Not verified: your SSH client offered no key.");
    expect(result.code).toBe(1);
    const detail = await bed.get(session);
    expect(detail).toMatchObject({ status: "pending", failedAttempts: 0 });
    expect(detail.connections).toHaveLength(1);
  });

  it("stops looking at keys after SSH_MAX_KEY_OFFERS offers", async () => {
    const limited = await startSshTestBed(kind, { SSH_MAX_KEY_OFFERS: "2" });
    try {
      const offered = [limited.keys.generate("ed25519"), limited.keys.generate("ed25519"), limited.keys.generate("ed25519")];
      const session = await limited.verifySession([offered[2]!], { maxAttempts: 3 });

      const result = await limited.ssh(session, { keys: offered });

      expect(result.stdout).toBe("Not verified: 2 of 3 attempts left\n");
      expect(await limited.get(session)).toMatchObject({ status: "pending", failedAttempts: 1 });
    } finally {
      await limited.stop();
    }
  });
});
