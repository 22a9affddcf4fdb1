import { GraphQLError } from "graphql";

interface Waiter<T> {
  resolve(result: IteratorResult<T, undefined>): void;
  reject(error: unknown): void;
}

type Ending = { error: false } | { error: true; cause: unknown };

const DONE = { value: undefined, done: true } as const;

/**
 * The results waiting for one subscriber. graphql-ws pulls from it as fast as its socket takes them; a subscriber
 * that falls `capacity` results behind is ended with an error rather than buffered without bound. `return()`
 * answers at once even while a `next()` waits, so a closing socket never hangs on a quiet subscription.
 */
export class SubscriberQueue<T> implements AsyncGenerator<T, undefined, unknown> {
  private readonly buffered: T[] = [];
  private waiting: Waiter<T> | null = null;
  private ending: Ending | null = null;
  private finished = false;

  constructor(
    private readonly capacity: number,
    /** Called once, however the subscription ends. */
    private readonly onFinish: () => void,
  ) {}

  push(value: T): void {
    if (this.ending || this.finished) return;
    const waiter = this.waiting;
    if (waiter) {
      this.waiting = null;
      waiter.resolve({ value, done: false });
    } else if (this.buffered.length >= this.capacity) {
      this.fail(new GraphQLError(`subscriber too slow: ${this.capacity} events were waiting`, { extensions: { code: "SLOW_SUBSCRIBER" } }));
    } else {
      this.buffered.push(value);
    }
  }

  /** Ends the subscription with this error once the results before it were taken. */
  fail(cause: unknown): void {
    this.close({ error: true, cause });
  }

  /** Ends the subscription normally once the results before it were taken. */
  end(): void {
    this.close({ error: false });
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.buffered.length > 0) return Promise.resolve({ value: this.buffered.shift() as T, done: false });
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      if (this.ending) this.settle({ resolve, reject });
      else this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.buffered.length = 0;
    const waiter = this.waiting;
    this.waiting = null;
    this.finish();
    waiter?.resolve(DONE);
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<T, undefined>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private close(ending: Ending): void {
    if (this.ending || this.finished) return;
    this.ending = ending;
    // Someone waits only while nothing is buffered, so the ending is due now.
    const waiter = this.waiting;
    this.waiting = null;
    if (waiter) this.settle(waiter);
  }

  private settle(waiter: Waiter<T>): void {
    const ending = this.ending;
    this.finish();
    if (ending?.error) waiter.reject(ending.cause);
    else waiter.resolve(DONE);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinish();
  }
}
