import { randomBytes, randomFillSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";

/** The last id's millisecond and counter: ids of one millisecond count up from a random start (RFC 9562 §6.2, method 1). */
const lastId = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };
/** The counter's 32 bits; a random start leaves it at least 2^31 steps of room. */
const MAX_SEQ = 0xffff_ffff;

/**
 * A time-ordered id (UUIDv7) whose timestamp is exactly `at`, so ordering by id matches ordering by creation time,
 * also within one millisecond of one process: newest first means last made first.
 */
export function newId(at: Date = new Date()): string {
  const msecs = at.getTime();
  const random = randomPool.take(16);
  if (msecs === lastId.msecs && lastId.seq < MAX_SEQ) {
    lastId.seq += 1;
  } else {
    lastId.msecs = msecs;
    lastId.seq = random.readUInt32BE(0) >>> 1;
  }
  return uuidv7({ msecs, seq: lastId.seq, random });
}

/**
 * Random bytes drawn from the system's generator a few kilobytes at a time, as Node's own randomUUID does: one call
 * per id cost more than the rest of the id (an SSH verification makes several).
 */
class RandomPool {
  private readonly pool = Buffer.alloc(4096);
  private offset = this.pool.length;

  /** `size` fresh bytes; valid until the next call. */
  take(size: number): Buffer {
    if (this.offset + size > this.pool.length) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const bytes = this.pool.subarray(this.offset, this.offset + size);
    this.offset += size;
    return bytes;
  }
}

const randomPool = new RandomPool();

/** Creation time truncated to the millisecond, the precision both databases store. */
export function now(): Date {
  return new Date(Date.now());
}

const BASE32_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";
const LETTERS = "abcdefghijklmnopqrstuvwxyz";
/** 1 letter (~4.7 bits) + 25 base32 characters (125 bits): well over the 120 random bits SPEC §6 asks for. */
const IDENTIFIER_TAIL_LENGTH = 25;

/** The SSH user name of a session: lowercase base32, starting with a letter. */
export function newConnectionIdentifier(): string {
  const bytes = randomBytes(IDENTIFIER_TAIL_LENGTH + 1);
  // 256 is a multiple of 32, so `byte % 32` is unbiased; the first letter uses rejection sampling.
  let first = bytes[0];
  while (first >= 234) first = randomBytes(1)[0];
  let identifier = LETTERS[first % 26];
  for (let index = 1; index <= IDENTIFIER_TAIL_LENGTH; index++) identifier += BASE32_ALPHABET[bytes[index] % 32];
  return identifier;
}

export const CONNECTION_IDENTIFIER_PATTERN = /^[a-z][a-z2-7]{25}$/;

/** API keys: a recognisable prefix and 256 random bits. */
export function newApiKey(): string {
  return `svk_${randomBytes(32).toString("base64url")}`;
}
