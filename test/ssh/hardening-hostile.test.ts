import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AnyAuthMethod } from "ssh2";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { waitFor } from "../support/wait-for.js";
import { runSsh } from "./support/openssh.js";
import { connectRaw, startOwnSshServer, type OwnSshServer } from "./support/own-ssh-server.js";
import { NO_MORE_METHODS, parsedPrivateKey, publicKeyOnce, ssh2Login, withBogusSignatures } from "./support/ssh2-clients.js";
import { fuzzAfterKeyExchange, pipelineAfterKeyExchange } from "./support/ssh-fuzzer.js";
import { CLIENT_IDENTIFICATION, clientOpening, DISCONNECT_REASON, kexInitPayload, MESSAGE, plainPacket, sshString, uint32 } from "./support/ssh-packets.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

/**
 * Malformed and hostile clients at every stage of a connection. After each, the server holds no socket of it,
 * logged no error, and still verifies a real OpenSSH client.
 */
describe.each(databaseKinds())("SSH against hostile clients on %s", (kind) => {
  let bed: SshTestBed;
  let own: OwnSshServer;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
    own = await startOwnSshServer(bed, { SSH_MAX_KEY_OFFERS: "20", SSH_LOGIN_GRACE_SECONDS: "3" });
  });

  afterEach(async () => {
    await own.drained();
    expect(own.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    expect((await runSsh({ port: own.port, user: session.connectionIdentifier, keys: [key] })).stdout).toBe("Verified.\n");
  });

  afterAll(async () => {
    await own?.close();
    await bed?.stop();
  });

  /** Sends the bytes and never closes: the server must close its side, then let go of the socket. */
  const sendAndWaitForClose = async (bytes: Buffer | Buffer[]) => {
    const connection = await connectRaw(own.port, { keepOpen: true });
    for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) connection.socket.write(chunk);
    await connection.ended;
    await own.drained();
    connection.socket.destroy();
  };

  it("closes a connection that sends garbage instead of an identification line", async () => {
    await sendAndWaitForClose(randomBytes(64 * 1024));
  });

  it("closes a connection whose identification line never ends", async () => {
    const line = Buffer.from(`SSH-2.0-${"A".repeat(1024 * 1024)}`, "latin1");

    await sendAndWaitForClose(Array.from({ length: 16 }, (_, index) => line.subarray(index * 65536, (index + 1) * 65536)));
  });

  it("closes a connection that sends lines before its identification, which only servers may", async () => {
    await sendAndWaitForClose(Buffer.from(`hello\r\n${CLIENT_IDENTIFICATION}`, "latin1"));
  });

  it("closes a connection whose key exchange stops halfway and then goes quiet", async () => {
    const opening = clientOpening();

    await sendAndWaitForClose(opening.subarray(0, CLIENT_IDENTIFICATION.length + 40));
  });

  it("closes a connection whose first packet claims four gigabytes", async () => {
    await sendAndWaitForClose([Buffer.from(CLIENT_IDENTIFICATION, "latin1"), uint32(0xfffffff0), randomBytes(1024)]);
  });

  it("closes a connection whose key exchange offers nothing in common", async () => {
    const kexInit = kexInitPayload();
    const bogus = Buffer.from(kexInit.toString("latin1").replace("curve25519-sha256", "curve99999-sha999"), "latin1");

    await sendAndWaitForClose([Buffer.from(CLIENT_IDENTIFICATION, "latin1"), plainPacket(bogus)]);
  });

  it("closes a connection that sends NEWKEYS before any key exchange", async () => {
    await sendAndWaitForClose([Buffer.from(CLIENT_IDENTIFICATION, "latin1"), plainPacket(Buffer.of(21))]);
  });

  it("does not count an invalid signature as proof, and counts the attempt", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 3 });
    const forged = withBogusSignatures(parsedPrivateKey(readFileSync(key.path, "utf8")));

    const outcome = await ssh2Login(own.port, session.connectionIdentifier, publicKeyOnce(session.connectionIdentifier, forged));

    expect(outcome.authenticated).toBe(false);
    // Counted when the server sees the client go, a moment after the client's side closed.
    const after = await waitFor("the failed attempt", async () => {
      const current = await bed.get(session);
      return current.failedAttempts > 0 && current;
    });
    expect(after).toMatchObject({ status: "pending", failedAttempts: 1 });
    expect(after.connections.map((connection) => connection.keys)).toEqual([[]]);
  });

  it("records a connection that disconnects in the middle of authentication, and nothing else", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 3 });
    const parsed = parsedPrivateKey(readFileSync(key.path, "utf8"));
    let pulled = false;
    const handler = (_methods: unknown, _partial: boolean, next: (method: AnyAuthMethod) => void) => {
      if (pulled) return next(NO_MORE_METHODS);
      pulled = true;
      next({ type: "none", username: session.connectionIdentifier });
    };

    await ssh2Login(own.port, session.connectionIdentifier, handler, (socket) =>
      // The `none` request is on its way; the client vanishes before any answer.
      socket.on("data", () => (pulled ? socket.destroy() : undefined)),
    );

    await own.drained();
    const after = await bed.get(session);
    expect(after).toMatchObject({ status: "pending", failedAttempts: 0 });
    expect(after.connections.length).toBeLessThanOrEqual(1);
  });

  it("turns down a public-key request cut short before its key, which ssh2 hands over half read", async () => {
    const session = await bed.verifySession([bed.keys.generate("ed25519")], { maxAttempts: 3 });
    const user = session.connectionIdentifier;
    const cutShort = Buffer.concat([
      Buffer.of(MESSAGE.USERAUTH_REQUEST),
      ...[user, "ssh-connection", "publickey"].map((text) => sshString(text)),
      Buffer.of(0),
      sshString("ssh-ed25519"),
    ]);

    await fuzzAfterKeyExchange(own.port, user, [cutShort], 300);

    await waitFor("the failed attempt", async () => (await bed.get(session)).failedAttempts === 1);
  });

  /** A USERAUTH_REQUEST as a client sends it; a public-key query (no signature) for a configured key gets PK_OK. */
  const authRequest = (user: string, method: string, ...methodData: Buffer[]) =>
    Buffer.concat([Buffer.of(MESSAGE.USERAUTH_REQUEST), ...[user, "ssh-connection", method].map((text) => sshString(text)), ...methodData]);
  const publicKeyQuery = (user: string, key: { publicKey: string }) =>
    authRequest(user, "publickey", Buffer.of(0), sshString("ssh-ed25519"), sshString(Buffer.from(key.publicKey.split(" ")[1]!, "base64")));

  /** Out-of-order answers so far, as the refusal count and the warnings tell them (an error line fails afterEach). */
  const pipelinedAuthRefusals = async () => ({
    counted: (await own.refusals()).pipelined_auth ?? 0,
    warned: own.lines.filter((line) => line.reason === "pipelined_auth" && Number(line.level) === 40).length,
  });

  it("disconnects a client that pipelines authentication requests, which ssh2 would answer out of order", async () => {
    const key = bed.keys.generate("ed25519");
    const user = (await bed.verifySession([key], { maxAttempts: 3 })).connectionIdentifier;
    const before = await pipelinedAuthRefusals();

    // One read: ssh2 holds the 2nd and 3rd while the gateway opens the login for the 1st, then hands over the newest
    // (the query, answered PK_OK) while its protocol layer expects the answer to the oldest (the 2nd `none`).
    const outcome = await pipelineAfterKeyExchange(own.port, user, [authRequest(user, "none"), authRequest(user, "none"), publicKeyQuery(user, key)], 10_000);

    expect(outcome).toEqual({ disconnectReason: DISCONNECT_REASON.BY_APPLICATION, timedOut: false });
    expect(await pipelinedAuthRefusals()).toEqual({ counted: before.counted + 1, warned: before.warned + 1 });
  });

  it("refuses quietly a key query that follows a request ssh2 disconnected for, as the fuzz test found", async () => {
    const key = bed.keys.generate("ed25519");
    const user = (await bed.verifySession([key], { maxAttempts: 3 })).connectionIdentifier;
    const before = await pipelinedAuthRefusals();
    const closedLines = () => own.lines.filter((line) => line.msg === "SSH connection closed").length;
    const closedBefore = closedLines();

    // ssh2 disconnects for the unknown method, leaving it first in line, and still hands over the query after it.
    const outcome = await pipelineAfterKeyExchange(own.port, user, [authRequest(user, ""), publicKeyQuery(user, key)], 10_000);

    expect(outcome).toEqual({ disconnectReason: DISCONNECT_REASON.PROTOCOL_ERROR, timedOut: false });
    // The connection's outcome is logged after every answer of its own (steps run in order).
    await waitFor("the connection's outcome", () => closedLines() > closedBefore);
    expect(await pipelinedAuthRefusals()).toEqual({ counted: before.counted + 1, warned: before.warned + 1 });
  });

  it("disconnects a client that keeps offering keys past SSH_MAX_KEY_OFFERS, thousands of them", async () => {
    const configured = bed.keys.generate("ed25519");
    const session = await bed.verifySession([configured], { maxAttempts: 3 });
    const strangers = Array.from({ length: 8 }, () => parsedPrivateKey(readFileSync(bed.keys.generate("ed25519").path, "utf8")));
    let offers = 0;
    const handler = (_methods: unknown, _partial: boolean, next: (method: AnyAuthMethod) => void) => {
      offers += 1;
      next(offers > 5000 ? NO_MORE_METHODS : { type: "publickey", username: session.connectionIdentifier, key: strangers[offers % 8]! });
    };

    const outcome = await ssh2Login(own.port, session.connectionIdentifier, handler);

    expect(outcome.authenticated).toBe(false);
    expect(offers).toBeLessThan(100);
    expect(own.lines.filter((line) => line.msg === "SSH connection closed: the client offered keys past SSH_MAX_KEY_OFFERS")).toHaveLength(1);
    await waitFor("the failed attempt", async () => (await bed.get(session)).failedAttempts === 1);
  });
});
