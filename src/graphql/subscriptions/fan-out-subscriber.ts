import type { ExecutionResult, FormattedExecutionResult } from "graphql";
import { GraphQLError } from "graphql";

/** Where one subscription's results go: its graphql-ws id on its socket. */
export interface Recipient {
  readonly id: string;
  /** Writes one text message on the subscription's socket. */
  send(message: string): void;
  /** Bytes written to the socket and not yet taken by the network. */
  readonly backlog: number;
}

/** A subscriber this far behind (1 MiB not yet sent) is ended rather than buffered without bound. */
export const MAX_BACKLOG_BYTES = 1024 * 1024;

const DONE = { value: undefined, done: true } as const;

/**
 * One member of a fan-out group. The group serializes each event's result once and writes the same graphql-ws
 * `next` message to every member's socket; graphql-ws keeps the subscription's lifecycle (subscribe, complete,
 * error, close) through this iterator, which yields nothing but a final error result when the member is ended.
 */
export class FanOutSubscriber implements AsyncGenerator<ExecutionResult, undefined, unknown> {
  private readonly messagePrefix: string;
  private waiting: ((result: IteratorResult<ExecutionResult, undefined>) => void) | null = null;
  private ending: IteratorResult<ExecutionResult, undefined> | null = null;
  private finished = false;

  constructor(
    private readonly recipient: Recipient,
    /** Called once, however the subscription ends. */
    private readonly onFinish: () => void,
  ) {
    this.messagePrefix = `{"id":${JSON.stringify(recipient.id)},"type":"next","payload":`;
  }

  /** Sends one result, serialized once for the whole group (`FormattedExecutionResult` as JSON). */
  deliver(serializedResult: string): void {
    if (this.ending || this.finished) return;
    if (this.recipient.backlog > MAX_BACKLOG_BYTES) {
      const error = new GraphQLError(`subscriber too slow: more than ${MAX_BACKLOG_BYTES} bytes waiting`, { extensions: { code: "SLOW_SUBSCRIBER" } });
      this.end({ errors: [error] });
      return;
    }
    this.recipient.send(`${this.messagePrefix}${serializedResult}}`);
  }

  /** Ends the subscription; graphql-ws sends `result` (errors) first when given, then `complete`. */
  end(result?: ExecutionResult | FormattedExecutionResult): void {
    if (this.ending || this.finished) return;
    this.ending = result ? { value: result as ExecutionResult, done: false } : DONE;
    const waiter = this.waiting;
    this.waiting = null;
    if (waiter) this.settle(waiter);
  }

  next(): Promise<IteratorResult<ExecutionResult, undefined>> {
    if (this.finished) return Promise.resolve(DONE);
    return new Promise((resolve) => {
      if (this.ending) this.settle(resolve);
      else this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult, undefined>> {
    const waiter = this.waiting;
    this.waiting = null;
    this.finish();
    waiter?.(DONE);
    return Promise.resolve(DONE);
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult, undefined>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The ending is handed out once; the next call finds the subscription finished. */
  private settle(resolve: (result: IteratorResult<ExecutionResult, undefined>) => void): void {
    const ending = this.ending ?? DONE;
    this.ending = DONE;
    if (ending.done) this.finish();
    resolve(ending);
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.onFinish();
  }
}
