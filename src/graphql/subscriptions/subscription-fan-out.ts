import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  GraphQLError,
} from "graphql";
import { FanOutSubscriber, type Recipient } from "./fan-out-subscriber.js";

export interface FanOutOptions {
  /** Counts one subscriber as open; the returned function counts it closed. */
  subscriberOpened(): () => void;
  /** A result as clients see it (errors in their GraphQL form); applied once per event and group. */
  format(result: ExecutionResult): FormattedExecutionResult;
  /** A source that failed mid-stream: logged once, its subscribers end with an internal error. */
  onSourceError(error: unknown): void;
}

const SOURCE_FAILED = new GraphQLError("Internal server error", { extensions: { code: "INTERNAL_SERVER_ERROR" } });

/**
 * Subscribers whose results cannot differ: the same document, operation and variables, for the same project and
 * host. The group subscribes to its source once, executes each event once with the first subscriber's context,
 * serializes the result once and writes it to every member's socket.
 */
class FanOutGroup {
  private readonly members = new Set<FanOutSubscriber>();
  private iterator: AsyncIterator<unknown> | null = null;
  private stopped = false;
  /** Null once the source is live; a result with errors when subscribing failed (the same for every member). */
  readonly started: Promise<ExecutionResult | null>;

  constructor(
    private readonly args: ExecutionArgs,
    private readonly options: FanOutOptions,
    private readonly onStop: () => void,
  ) {
    this.started = this.start();
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  join(recipient: Recipient): FanOutSubscriber {
    const closed = this.options.subscriberOpened();
    const member: FanOutSubscriber = new FanOutSubscriber(recipient, () => {
      closed();
      this.members.delete(member);
      if (this.members.size === 0) this.stop();
    });
    this.members.add(member);
    return member;
  }

  private async start(): Promise<ExecutionResult | null> {
    try {
      const source = await createSourceEventStream(this.args);
      if (!(Symbol.asyncIterator in source)) {
        this.stop();
        return source;
      }
      this.iterator = source[Symbol.asyncIterator]();
      // The first next() attaches the pub/sub listener synchronously, so the group is live when start resolves.
      void this.pump(this.iterator);
      return null;
    } catch (error) {
      this.stop();
      throw error;
    }
  }

  private async pump(iterator: AsyncIterator<unknown>): Promise<void> {
    let failed = false;
    try {
      for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
        const result = await execute({ ...this.args, rootValue: step.value });
        const serialized = JSON.stringify(this.options.format(result));
        for (const member of this.members) member.deliver(serialized);
      }
    } catch (error) {
      failed = true;
      this.options.onSourceError(error);
    }
    // A source that ended takes no new members; the ones it has end after what they were sent.
    this.stop();
    for (const member of this.members) member.end(failed ? { errors: [SOURCE_FAILED] } : undefined);
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
    void this.iterator?.return?.();
  }
}

/**
 * Executes each event once per group of equal subscriptions instead of once per subscriber (SPEC §5: a thousand
 * subscribers do not cost a thousand executions). The caller names the group: its key must hold everything the
 * result depends on besides the event.
 */
export class SubscriptionFanOut {
  private readonly groups = new Map<string, FanOutGroup>();

  constructor(private readonly options: FanOutOptions) {}

  /** Distinct executions per event, for the benchmark and the tests. */
  get groupCount(): number {
    return this.groups.size;
  }

  async subscribe(groupKey: string, args: ExecutionArgs, recipient: Recipient): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    for (;;) {
      let group = this.groups.get(groupKey);
      if (!group) {
        const created: FanOutGroup = new FanOutGroup(args, this.options, () => {
          if (this.groups.get(groupKey) === created) this.groups.delete(groupKey);
        });
        this.groups.set(groupKey, created);
        group = created;
      }
      const failed = await group.started;
      if (failed) return failed;
      // Its last member may have left while this one waited; then the next one starts afresh.
      if (!group.isStopped) return group.join(recipient);
    }
  }
}
