import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { waitFor } from "../support/wait-for.js";
import { startSshTestBed, type SshTestBed } from "../ssh/support/ssh-gateway.js";

/** The value of one sample line of the Prometheus text, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const OUTCOME = (outcome: string) => `sshverify_ssh_connections_total{outcome="${outcome}"}`;
const VERIFICATIONS = (kind: string, outcome: string) =>
  `sshverify_verification_duration_seconds_count{kind="${kind}",outcome="${outcome}"}`;

describe.each(databaseKinds())("SSH metrics over the real OpenSSH client on %s", (kind) => {
  let bed: SshTestBed;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
  });
  afterAll(async () => {
    await bed?.stop();
  });

  const metricsText = async () => (await bed.gateway.request("GET", "/metrics", { apiKey: null })).text;

  /** Runs `action`, then waits until `series` has grown by one (outcomes are counted once recorded). */
  async function expectCounted(series: string[], action: () => Promise<unknown>): Promise<void> {
    const before = await metricsText();
    await action();
    await waitFor(series.join(" and "), async () => {
      const after = await metricsText();
      return series.every((name) => sample(after, name) === sample(before, name) + 1);
    });
  }

  it("counts a verified connection as satisfied and times its verification", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.verifySession([key]);
    await expectCounted([OUTCOME("satisfied"), VERIFICATIONS("verify", "satisfied")], async () => {
      expect((await bed.ssh(session, { keys: [key] })).stdout).toBe("Verified.\n");
    });
  });

  it("counts a connection with the wrong key as not satisfied", async () => {
    const configured = bed.keys.generate("ed25519");
    const other = bed.keys.generate("ed25519");
    const session = await bed.verifySession([configured], { maxAttempts: 3 });
    await expectCounted([OUTCOME("not_satisfied"), VERIFICATIONS("verify", "not_satisfied")], () =>
      bed.ssh(session, { keys: [other], args: ["-o", "BatchMode=yes"] }),
    );
  });

  it("counts a collected key as satisfied", async () => {
    const key = bed.keys.generate("ed25519");
    const session = await bed.create("collect");
    await expectCounted([OUTCOME("satisfied"), VERIFICATIONS("collect", "satisfied")], () => bed.ssh(session, { keys: [key] }));
  });

  it("counts a connection to an unknown session as refused", async () => {
    const key = bed.keys.generate("ed25519");
    await expectCounted([OUTCOME("refused")], () => bed.ssh("aaaaaaaaaaaaaaaaaaaaaaaaaa", { keys: [key] }));
  });
});
