import { randomInt } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseKinds } from "../support/databases.js";
import { runSsh } from "./support/openssh.js";
import { startOwnSshServer, type OwnSshServer } from "./support/own-ssh-server.js";
import { fuzzAfterKeyExchange, fuzzRawConnection, mutate, postKexPayload, Random } from "./support/ssh-fuzzer.js";
import { clientOpening, CLIENT_IDENTIFICATION, plainPacket } from "./support/ssh-packets.js";
import { startSshTestBed, type SshTestBed } from "./support/ssh-gateway.js";

/** FUZZ_SEED repeats a run; FUZZ_CASES scales it (default 300 byte-level and 120 packet-level cases). */
const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const CASES = Number(process.env.FUZZ_CASES ?? 300);
const CONCURRENCY = 12;

async function inParallel(count: number, run: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) await run(next++);
    }),
  );
}

/**
 * Random and mutated SSH traffic, on 127.0.0.1 only, bounded in cases and time: before the key exchange as raw
 * bytes, after it as encrypted packets the server must decrypt and parse. The server must neither crash nor log an
 * error, must let go of every socket, and must still verify a real OpenSSH client afterwards.
 */
describe.each(databaseKinds())("the SSH server under fuzzing on %s", (kind) => {
  let bed: SshTestBed;
  let own: OwnSshServer;

  beforeAll(async () => {
    bed = await startSshTestBed(kind);
    own = await startOwnSshServer(bed, { SSH_LOGIN_GRACE_SECONDS: "3", SSH_IDLE_TIMEOUT_SECONDS: "3", SSH_MAX_CONNECTIONS_PER_IP: "100" });
  });

  afterAll(async () => {
    await own?.close();
    await bed?.stop();
  });

  it(`keeps serving through mutated openings and packets (FUZZ_SEED=${SEED})`, { timeout: 180_000 }, async () => {
    const random = new Random(SEED);
    const key = bed.keys.generate("ed25519");
    const pending = await bed.verifySession([key], { maxAttempts: 10_000 });
    const keyBlob = Buffer.from(key.publicKey.split(" ")[1]!, "base64");
    const openings = [
      () => clientOpening(),
      () => Buffer.concat([Buffer.from(CLIENT_IDENTIFICATION, "latin1"), ...Array.from({ length: 1 + random.below(4) }, () => plainPacket(random.bytes(random.below(400))))]),
      () => random.bytes(random.below(2048)),
    ];

    await inParallel(CASES, async () => {
      const opening = random.pick(openings)();
      await fuzzRawConnection(own.port, random.below(8) === 0 ? opening : mutate(opening, random), random, 200);
    });
    await inParallel(Math.ceil(CASES * 0.4), async () => {
      const username = random.below(2) === 0 ? pending.connectionIdentifier : random.bytes(random.below(40)).toString("latin1");
      const payloads = Array.from({ length: 1 + random.below(5) }, () => postKexPayload(random, username, keyBlob));
      await fuzzAfterKeyExchange(own.port, username, payloads, 200);
    });

    await own.drained();
    expect(own.lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    const session = await bed.verifySession([key]);
    expect((await runSsh({ port: own.port, user: session.connectionIdentifier, keys: [key] })).stdout).toBe("Verified.\n");
    await own.drained();
  });
});
