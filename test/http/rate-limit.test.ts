import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { DomainError } from "../../src/domain/errors.js";
import { RateLimiter } from "../../src/http/rate-limit.js";
import { createLogger } from "../../src/logger.js";

const logger = createLogger("silent");
/** 10:00:15.000 on some day: 45 seconds are left in the current one-minute window. */
const QUARTER_PAST = Date.UTC(2030, 0, 1, 10, 0, 15);

async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe("rate limit in one process", () => {
  const limiters: RateLimiter[] = [];
  afterEach(async () => {
    for (const limiter of limiters.splice(0)) await limiter.close();
  });

  function limiter(limit: number, clock: () => number): RateLimiter {
    const created = RateLimiter.create(limit, null, logger, clock);
    limiters.push(created);
    return created;
  }

  it("lets RATE_LIMIT_PER_MINUTE requests of a project through in a minute and refuses the next", async () => {
    const limited = limiter(3, () => QUARTER_PAST);
    for (let request = 0; request < 3; request++) await limited.consume("project-a");
    const error = await rejection(limited.consume("project-a"));
    expect(error.code).toBe("RATE_LIMITED");
    expect(error.message).toBe("rate limit of 3 requests per minute exceeded; retry in 45 s");
    expect(error.retryAfterSeconds).toBe(45);
  });

  it("counts each project on its own", async () => {
    const limited = limiter(1, () => QUARTER_PAST);
    await limited.consume("project-a");
    await limited.consume("project-b");
    await expect(limited.consume("project-a")).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });

  it("starts counting again when the next minute begins", async () => {
    let at = QUARTER_PAST;
    const limited = limiter(1, () => at);
    await limited.consume("project-a");
    at = QUARTER_PAST + 44_999;
    expect((await rejection(limited.consume("project-a"))).retryAfterSeconds).toBe(1);
    at = QUARTER_PAST + 45_000;
    await limited.consume("project-a");
  });

  it("does nothing when RATE_LIMIT_PER_MINUTE is 0", async () => {
    const unlimited = limiter(0, () => QUARTER_PAST);
    for (let request = 0; request < 1_000; request++) await unlimited.consume("project-a");
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) console.log("rate limit through Redis: skipped, TEST_REDIS_URL is not set");

describe.skipIf(!redisUrl)("rate limit shared through Redis", () => {
  const limiters: RateLimiter[] = [];
  afterEach(async () => {
    for (const limiter of limiters.splice(0)) await limiter.close();
  });

  function limiter(limit: number, clock: () => number = Date.now): RateLimiter {
    const created = RateLimiter.create(limit, redisUrl as string, logger, clock);
    limiters.push(created);
    return created;
  }

  it("holds the limit across two limiters, as two instances would", async () => {
    const project = `project-${randomUUID()}`;
    const [first, second] = [limiter(4, () => QUARTER_PAST), limiter(4, () => QUARTER_PAST)];
    await first.consume(project);
    await second.consume(project);
    await first.consume(project);
    await second.consume(project);
    await expect(first.consume(project)).rejects.toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: 45 });
    await expect(second.consume(project)).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });
});

describe("rate limit while Redis cannot be reached", () => {
  it("lets requests through and logs one warning", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString("utf8"));
        done();
      },
    });
    const unreachable = RateLimiter.create(1, "redis://127.0.0.1:1", createLogger("warn", sink));
    await unreachable.consume("project-a");
    await unreachable.consume("project-a");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 40, msg: "rate limit counter unavailable; requests are let through" });
    await unreachable.close();
  });
});
