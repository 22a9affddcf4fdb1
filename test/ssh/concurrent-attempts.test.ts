import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

describe.each(databaseKinds())("concurrent SSH connections on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it("counts exactly max_attempts failed attempts out of 20 concurrent wrong-key connections", async () => {
    const key = bed.keys.generate("ed25519");
    const wrong = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key], { maxAttempts: 3 });

    const results = await Promise.all(
      Array.from({ length: 20 }, () => bed.ssh(session, { keys: [wrong], timeoutMs: 60_000 })),
    );

    const counted = results.filter((result) => /^Not verified: (2 of 3 attempts left|1 of 3 attempts left|no attempts left)/m.test(result.stdout));
    expect(counted).toHaveLength(3);
    expect(results.every((result) => result.code !== 0 && result.code !== null)).toBe(true);
    const detail = await bed.get(session);
    expect(detail).toMatchObject({ status: "failed", failedAttempts: 3 });
    expect(detail.connections.flatMap((connection) => connection.keys)).toEqual([]);
  });

  it("verifies once when concurrent connections prove the key", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);

    const results = await Promise.all(Array.from({ length: 5 }, () => bed.ssh(session, { keys: [key], timeoutMs: 60_000 })));

    expect(results.filter((result) => result.stdout === "Verified.\n")).toHaveLength(1);
    const detail = await bed.get(session);
    expect(detail.status).toBe("verified");
    expect(detail.connections.filter((connection) => connection.keys.length > 0)).toHaveLength(1);
  });
});
