import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

describe.each(databaseKinds())("verify session options over the real OpenSSH client on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("shows ssh_banner on stderr once the user name is known, and ssh_message on stdout before the result", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], {
      sshBanner: "Welcome to Example Corp.\nThis proves you hold your key.",
      sshMessage: "Thanks, you can close this window.",
    });

    const result = await bed.ssh(session, { keys: [key] });

    expect(result.stderr).toContain("Welcome to Example Corp.\nThis proves you hold your key.\n");
    expect(result.stdout).toBe("Thanks, you can close this window.\nVerified.\n");
    expect(result.code).toBe(0);
  });

  it("keeps the banner quiet with ssh -q, as OpenSSH does", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { sshBanner: "A banner" });

    const result = await bed.ssh(session, { keys: [key], args: ["-q"] });

    expect(result.stderr).not.toContain("A banner");
    expect(result.code).toBe(0);
  });

  it("records every configured key the client proves with multi_key", async () => {
    const first = bed.keys.generate("ed25519");
    const second = bed.keys.generate("ecdsa");
    const session = await bed.verifySession([first, second], { multiKey: true });

    const result = await bed.ssh(session, { keys: [first, second] });

    expect(result.stdout).toBe("Verified.\n");
    expect(result.code).toBe(0);
    const detail = await bed.get(session);
    expect(detail.status).toBe("verified");
    expect(detail.connections).toHaveLength(1);
    expect(detail.connections[0]?.keys.map((proven) => proven.publicKeySha256)).toEqual([first.sha256, second.sha256]);
    expect(detail.keys.every((configured) => configured.verifiedAt !== null)).toBe(true);
  });

  it("needs every configured key on one connection with match_all_keys", async () => {
    const first = bed.keys.generate("ed25519");
    const second = bed.keys.generate("rsa");
    const session = await bed.verifySession([first, second], { matchAllKeys: true, maxAttempts: 3 });

    const partial = await bed.ssh(session, { keys: [first] });
    expect(partial.stdout).toBe("Not verified: 2 of 3 attempts left\n");
    expect(partial.code).toBe(1);
    let detail = await bed.get(session);
    expect(detail).toMatchObject({ status: "pending", failedAttempts: 1 });
    expect(detail.connections[0]?.keys).toEqual([]);

    const complete = await bed.ssh(session, { keys: [first, second], args: ["-o", "BatchMode=yes"] });
    expect(complete.stdout).toBe("Verified.\n");
    expect(complete.code).toBe(0);
    detail = await bed.get(session);
    expect(detail.status).toBe("verified");
    expect(detail.connections[1]?.keys.map((proven) => proven.publicKeySha256)).toEqual([first.sha256, second.sha256]);
  });

  describe("must_confirm", () => {
    it("verifies after the y key press with a pty (ssh -tt)", async () => {
      const key = bed.keys.generate("ed25519");
      const session = await bed.verifySession([key], { mustConfirm: true, sshMessage: "Log in to Example?" });

      const result = await bed.ssh(session, { keys: [key], args: ["-tt"], input: "y" });

      expect(result.stdout).toContain("Log in to Example?\r\nPress y to confirm: y\r\nVerified.\r\n");
      expect(result.code).toBe(0);
      const detail = await bed.get(session);
      expect(detail.status).toBe("verified");
      expect(detail.connections[0]?.keys).toHaveLength(1);
    });

    it("records every proven key of a multi_key session only after the y", async () => {
      const first = bed.keys.generate("ed25519");
      const second = bed.keys.generate("ecdsa");
      const session = await bed.verifySession([first, second], { mustConfirm: true, multiKey: true });

      const result = await bed.ssh(session, { keys: [first, second], args: ["-tt"], input: "y" });

      expect(result.stdout).toContain("Press y to confirm: y\r\nVerified.\r\n");
      const detail = await bed.get(session);
      expect(detail.status).toBe("verified");
      expect(detail.connections[0]?.keys.map((proven) => proven.publicKeySha256)).toEqual([first.sha256, second.sha256]);
    });

    it("does not verify on any other key press, and counts a failed attempt", async () => {
      const key = bed.keys.generate("ed25519");
      const session = await bed.verifySession([key], { mustConfirm: true, maxAttempts: 2 });

      const result = await bed.ssh(session, { keys: [key], args: ["-tt"], input: "n" });

      expect(result.stdout).toContain("Press y to confirm: \r\nNot confirmed.\r\nNot verified: 1 of 2 attempts left\r\n");
      expect(result.code).toBe(1);
      const detail = await bed.get(session);
      expect(detail).toMatchObject({ status: "pending", failedAttempts: 1 });
      expect(detail.keys[0]?.verifiedAt).toBeNull();
      expect(detail.connections[0]?.keys).toEqual([]);
    });

    it("reads a line without a pty: y and a newline verify", async () => {
      const key = bed.keys.generate("ed25519");
      const session = await bed.verifySession([key], { mustConfirm: true });

      const result = await bed.ssh(session, { keys: [key], args: ["-T"], input: "y\n" });

      expect(result.stdout).toBe("Press y to confirm: \nVerified.\n");
      expect(result.code).toBe(0);
      expect((await bed.get(session)).status).toBe("verified");
    });

    it("reads a line without a pty: anything else does not verify", async () => {
      const key = bed.keys.generate("ed25519");
      const session = await bed.verifySession([key], { mustConfirm: true, maxAttempts: 2 });

      const result = await bed.ssh(session, { keys: [key], args: ["-T"], input: "yes please\n" });

      expect(result.stdout).toBe("Press y to confirm: \nNot confirmed.\nNot verified: 1 of 2 attempts left\n");
      expect(result.code).toBe(1);
      expect(await bed.get(session)).toMatchObject({ status: "pending", failedAttempts: 1 });
    });

    it("is not a verification without a session channel (ssh -N), nor without an answer in time", async () => {
      const quick = await startSshTestBed(kind, { SSH_CONFIRM_TIMEOUT_SECONDS: "1" });
      try {
        const key = quick.keys.generate("ed25519");
        const session = await quick.verifySession([key], { mustConfirm: true, maxAttempts: 3 });

        const withoutChannel = await quick.ssh(session, { keys: [key], args: ["-N"] });
        expect(withoutChannel.code).not.toBe(0);
        const silent = await quick.ssh(session, { keys: [key], args: ["-tt"], silentStdin: true });
        expect(silent.stdout).toContain("Press y to confirm: \r\nNo answer in time.\r\nNot verified: 1 of 3 attempts left\r\n");
        expect(silent.code).toBe(1);

        const detail = await quick.get(session);
        expect(detail).toMatchObject({ status: "pending", failedAttempts: 2 });
        expect(detail.keys[0]?.verifiedAt).toBeNull();
        expect(detail.connections.flatMap((connection) => connection.keys)).toEqual([]);
      } finally {
        await quick.stop();
      }
    });
  });

  it("refuses an expired session with one line saying so", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { timeout: 1 });
    await expect.poll(async () => (await bed.get(session)).status, { timeout: 5000, interval: 200 }).toBe("expired");

    const result = await bed.ssh(session, { keys: [key] });

    expect(result.stderr).toContain("This session has expired.\n");
    expect(result.stderr).toContain("Permission denied (publickey)");
    expect(result.code).toBe(255);
    expect((await bed.get(session)).connections).toEqual([]);
  });

  it("keeps a multi_connection session pending across successes until complete makes it verified", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true });

    for (let connection = 0; connection < 2; connection++) {
      const result = await bed.ssh(session, { keys: [key] });
      expect(result.stdout).toBe("Verified.\n");
      expect(result.code).toBe(0);
    }
    expect(await bed.get(session)).toMatchObject({ status: "pending" });
    expect((await bed.get(session)).connections).toHaveLength(2);

    const completed = await bed.gateway.services.sessions.complete(bed.context, "verify", session.id);
    expect(completed.status).toBe("verified");
    const afterwards = await bed.ssh(session, { keys: [key] });
    expect(afterwards.stderr).toContain("This session is already verified.\n");
    expect(afterwards.code).toBe(255);
  });

  it("makes a multi_connection session without any success failed on complete", async () => {
    const key = bed.keys.generate("ed25519");
    const wrong = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { multiConnection: true, maxAttempts: 5 });

    expect((await bed.ssh(session, { keys: [wrong] })).code).toBe(1);
    const completed = await bed.gateway.services.sessions.complete(bed.context, "verify", session.id);

    expect(completed).toMatchObject({ status: "failed", failedAttempts: 1 });
  });

  it("shows the same line for an unknown and a deleted identifier", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    await bed.gateway.services.sessions.delete(bed.context, "verify", session.id);
    const unknown = "a".repeat(session.connectionIdentifier.length);

    const deletedResult = await bed.ssh(session, { keys: [key] });
    const unknownResult = await bed.ssh(unknown, { keys: [key] });

    const refusal = (stderr: string, user: string) =>
      stderr
        .split(/\r?\n/)
        .filter((line) => !line.startsWith("Warning: Permanently added") && !line.startsWith("Pseudo-terminal"))
        .join("\n")
        .replace(user, "<user>");
    expect(refusal(deletedResult.stderr, session.connectionIdentifier)).toBe(refusal(unknownResult.stderr, unknown));
    expect(deletedResult.stderr).toContain("This SSH login is not valid: no session has this identifier.\n");
    expect(deletedResult.code).toBe(255);
    expect(unknownResult.code).toBe(255);
  });

  it.each([
    ["upper case", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"],
    ["far too long", "a".repeat(2000)],
    ["not base32", "root"],
  ])("refuses a user name that cannot be an identifier (%s) with the same line", async (_case, user) => {
    const key = bed.keys.generate("ed25519");

    const result = await bed.ssh(user, { keys: [key] });

    expect(result.stderr).toContain("This SSH login is not valid: no session has this identifier.\n");
    expect(result.code).toBe(255);
  });
});
