import { Redis } from "ioredis";
import { DomainError } from "../domain/errors.js";
import { closeRedis } from "../services/pubsub.js";
import type { Logger } from "../logger.js";

const WINDOW_MS = 60_000;

/** How many requests a project has made in the current window, and when that window ends. */
interface WindowCount {
  count: number;
  resetsAt: number;
}

/** Counts requests per key in fixed one-minute windows. */
interface WindowCounter {
  increment(key: string, windowStart: number): Promise<number>;
  close(): Promise<void>;
}

/** One process's counts; enough when a single instance serves the API. */
class MemoryWindowCounter implements WindowCounter {
  private readonly counts = new Map<string, WindowCount>();

  async increment(key: string, windowStart: number): Promise<number> {
    const current = this.counts.get(key);
    if (current && current.resetsAt === windowStart + WINDOW_MS) {
      current.count++;
      return current.count;
    }
    this.counts.set(key, { count: 1, resetsAt: windowStart + WINDOW_MS });
    return 1;
  }

  async close(): Promise<void> {
    this.counts.clear();
  }
}

/** Counts shared by every instance on one Redis: INCR a per-window key that expires after its window. */
class RedisWindowCounter implements WindowCounter {
  private readonly redis: Redis;

  constructor(redisUrl: string) {
    // A slow or absent Redis must not hold API requests; the limiter lets them through instead.
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 1_000, enableOfflineQueue: true });
    this.redis.on("error", () => undefined);
  }

  async increment(key: string, windowStart: number): Promise<number> {
    const redisKey = `sshverify:rate:${key}:${windowStart}`;
    const results = await this.redis.multi().incr(redisKey).pexpire(redisKey, WINDOW_MS * 2).exec();
    const [error, count] = results?.[0] ?? [new Error("empty MULTI reply"), null];
    if (error) throw error;
    return Number(count);
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}

/**
 * RATE_LIMIT_PER_MINUTE per project, in fixed one-minute windows aligned to the clock so every instance
 * counts into the same window. REST and GraphQL call `consume` after authentication.
 */
export class RateLimiter {
  private lastFailureLog = 0;

  private constructor(
    private readonly limitPerMinute: number,
    private readonly counter: WindowCounter | null,
    private readonly logger: Logger,
    private readonly clock: () => number,
  ) {}

  /** Off when the limit is 0; shared through Redis when `redisUrl` is set; in this process otherwise. */
  static create(
    limitPerMinute: number,
    redisUrl: string | null,
    logger: Logger,
    clock: () => number = Date.now,
  ): RateLimiter {
    if (limitPerMinute <= 0) return new RateLimiter(0, null, logger, clock);
    const counter = redisUrl ? new RedisWindowCounter(redisUrl) : new MemoryWindowCounter();
    return new RateLimiter(limitPerMinute, counter, logger, clock);
  }

  /** Counts one request of the project; throws RATE_LIMITED with the seconds until the window resets. */
  async consume(projectId: string): Promise<void> {
    if (!this.counter) return;
    const at = this.clock();
    const windowStart = Math.floor(at / WINDOW_MS) * WINDOW_MS;
    let count: number;
    try {
      count = await this.counter.increment(projectId, windowStart);
    } catch (error) {
      this.reportFailure(error, at);
      return;
    }
    if (count <= this.limitPerMinute) return;
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MS - at) / 1000));
    throw new DomainError(
      "RATE_LIMITED",
      `rate limit of ${this.limitPerMinute} requests per minute exceeded; retry in ${retryAfterSeconds} s`,
      [],
      retryAfterSeconds,
    );
  }

  async close(): Promise<void> {
    await this.counter?.close();
  }

  /** Failing open keeps the API up while Redis is away; one warning a minute is enough to notice. */
  private reportFailure(error: unknown, at: number): void {
    if (at - this.lastFailureLog < WINDOW_MS) return;
    this.lastFailureLog = at;
    this.logger.warn({ err: error }, "rate limit counter unavailable; requests are let through");
  }
}
