import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoggedGateway, startLoggedGateway } from "../support/logged-gateway.js";
import { waitFor } from "../support/wait-for.js";
import { KeyRing, runSsh } from "../ssh/support/openssh.js";

describe("SSH logs", () => {
  let started: LoggedGateway;
  const keys = new KeyRing();

  beforeAll(async () => {
    started = await startLoggedGateway();
  });
  afterAll(async () => {
    keys.remove();
    await started?.close();
  });

  it("name each SSH connection by an id of its own, with its IP and its result when it closes", async () => {
    const { gateway } = started;
    const context = await gateway.services.apiKeys.authenticate(started.apiKey);
    const key = keys.generate("ed25519");
    const session = await gateway.services.sessions.create(context, "verify", { keys: [{ publicKey: key.publicKey }] });

    const result = await runSsh({ port: gateway.sshPort, user: session.connectionIdentifier, keys: [key] });
    expect(result.stdout).toBe("Verified.\n");

    const closed = await waitFor("the connection's closing line", () =>
      started.lines.find((line) => line.msg === "SSH connection closed" && line.result === "verified"),
    );
    expect(closed).toMatchObject({ connectionId: expect.stringMatching(/^[0-9a-f-]{36}$/), ip: "127.0.0.1" });
    const second = await runSsh({ port: gateway.sshPort, user: session.connectionIdentifier, keys: [key] });
    expect(second.code).not.toBe(0);
    const refused = await waitFor("the second connection's closing line", () =>
      started.lines.find((line) => line.msg === "SSH connection closed" && line.result === "session-closed"),
    );
    expect(refused.connectionId).toEqual(expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(refused.connectionId).not.toBe(closed.connectionId);
    expect(JSON.stringify(started.lines)).not.toContain(started.apiKey);
  });
});
