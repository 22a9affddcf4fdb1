import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { waitFor } from "../support/wait-for.js";
import { runSsh } from "./support/openssh.js";
import { connectRaw, startOwnSshServer, type OwnSshServer } from "./support/own-ssh-server.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

/** The caps and deadlines of SPEC §3: each refusal closes what it must, is logged with its reason, and is counted. */
describe.each(databaseKinds())("SSH caps and deadlines on %s", (kind) => {
  let bed: SshTestBed;
  const servers: OwnSshServer[] = [];
  const serve = async (environment: Record<string, string>) => {
    const own = await startOwnSshServer(bed, environment);
    servers.push(own);
    return own;
  };
  const verify = async (own: OwnSshServer) => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    return runSsh({ port: own.port, user: session.connectionIdentifier, keys: [key] });
  };
  const linesWith = (own: OwnSshServer, reason: string) => own.lines.filter((line) => line.reason === reason);

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await Promise.all(servers.map((own) => own.close()));
    await bed?.stop();
  });

  it("closes 200 sockets that send nothing at SSH_IDLE_TIMEOUT_SECONDS, and verifies someone meanwhile", async () => {
    const own = await serve({ SSH_IDLE_TIMEOUT_SECONDS: "6", SSH_MAX_CONNECTIONS_PER_IP: "250" });
    const silent = await Promise.all(Array.from({ length: 200 }, () => connectRaw(own.port)));

    const result = await verify(own);

    expect(result.stdout).toBe("Verified.\n");
    expect(silent.filter((connection) => connection.isClosed())).toHaveLength(0);
    await Promise.all(silent.map((connection) => connection.closed));
    await own.drained();
    expect((await own.refusals()).idle_timeout).toBe(200);
    const logged = linesWith(own, "idle_timeout");
    expect(logged).toHaveLength(200);
    expect(logged[0]).toMatchObject({ msg: "SSH connection closed: deadline passed", deadline: "idle", ip: "127.0.0.1" });
  });

  it("refuses the connection over SSH_MAX_CONNECTIONS_PER_IP and admits the next one once one has closed", async () => {
    const own = await serve({ SSH_MAX_CONNECTIONS_PER_IP: "2" });
    const first = await connectRaw(own.port);
    const second = await connectRaw(own.port);
    await expect.poll(() => second.received().toString("latin1")).toMatch(/^SSH-2\.0-SSHVerifyGateway\r\n/);

    const third = await connectRaw(own.port);
    await third.closed;
    expect(third.received()).toHaveLength(0);
    expect(first.isClosed() || second.isClosed()).toBe(false);
    expect(linesWith(own, "address_cap")).toMatchObject([{ level: 40, ip: "127.0.0.1", msg: "SSH connection refused: SSH_MAX_CONNECTIONS_PER_IP reached" }]);
    expect(await own.refusals()).toMatchObject({ address_cap: 1 });
    expect(await own.outcomes()).toMatchObject({ rejected_limit: 1 });

    first.socket.destroy();
    await first.closed;
    await waitFor("the server to release the place", () => own.server.connections === 1);
    const fourth = await connectRaw(own.port);
    await expect.poll(() => fourth.received().toString("latin1")).toMatch(/^SSH-2\.0-/);
    second.socket.destroy();
    fourth.socket.destroy();
    await own.drained();
  });

  it("refuses connections over SSH_MAX_CONNECTIONS, from any address", async () => {
    const own = await serve({ SSH_MAX_CONNECTIONS: "1" });
    const first = await connectRaw(own.port);
    await expect.poll(() => first.received().toString("latin1")).toMatch(/^SSH-2\.0-/);

    const second = await connectRaw(own.port);
    await second.closed;

    expect(second.received()).toHaveLength(0);
    expect(linesWith(own, "connection_cap")).toMatchObject([{ msg: "SSH connection refused: SSH_MAX_CONNECTIONS reached" }]);
    expect(await own.refusals()).toMatchObject({ connection_cap: 1 });
    first.socket.destroy();
    await own.drained();
    expect((await verify(own)).stdout).toBe("Verified.\n");
  });

  it("closes a connection SSH_LOGIN_GRACE_SECONDS after its first byte when it has not logged in", async () => {
    const own = await serve({ SSH_LOGIN_GRACE_SECONDS: "1", SSH_IDLE_TIMEOUT_SECONDS: "60" });
    const slow = await connectRaw(own.port);
    slow.socket.write("SSH-2.0-SlowClient\r\n");

    await slow.closed;

    expect(await own.refusals()).toMatchObject({ login_deadline: 1 });
    expect(own.lines.find((line) => line.deadline === "login")).toMatchObject({ msg: "SSH connection closed: deadline passed", ip: "127.0.0.1" });
    await own.drained();
  });

  it("logs and counts a confirmation left unanswered for SSH_CONFIRM_TIMEOUT_SECONDS", async () => {
    const own = await serve({ SSH_CONFIRM_TIMEOUT_SECONDS: "1" });
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { mustConfirm: true });

    const result = await runSsh({ port: own.port, user: session.connectionIdentifier, keys: [key], silentStdin: true });

    expect(result.stdout).toContain("No answer in time.");
    expect(await own.refusals()).toMatchObject({ confirm_timeout: 1 });
    expect(linesWith(own, "confirm_timeout")).toHaveLength(1);
    expect((await bed.get(session)).status).toBe("failed"); // max_attempts 1: the silence was its failed attempt
  });

  it("logs and counts the moment SSH_MAX_KEY_OFFERS stops the key offers of a connection", async () => {
    const own = await serve({ SSH_MAX_KEY_OFFERS: "2" });
    const configured = bed.keys.generate("ed25519");
    const session = await bed.verifySession([configured]);
    const others = [bed.keys.generate("ed25519"), bed.keys.generate("ed25519")];

    const result = await runSsh({ port: own.port, user: session.connectionIdentifier, keys: [...others, configured] });

    expect(result.stdout).toContain("Not verified");
    expect(await own.refusals()).toMatchObject({ key_offer_cap: 1 });
    expect(linesWith(own, "key_offer_cap")).toMatchObject([{ msg: "SSH key offers refused from now on: SSH_MAX_KEY_OFFERS reached" }]);
  });
});
