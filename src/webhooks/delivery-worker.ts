import { randomUUID } from "node:crypto";
import { now } from "../domain/ids.js";
import type { Logger } from "../logger.js";
import type { ClaimedDelivery, WebhookDeliveriesService } from "../services/webhook-deliveries.service.js";
import { type DnsLookup, systemLookup } from "./address-guard.js";
import { sendWebhook } from "./webhook-sender.js";
import { signatureHeaders } from "./webhook-signature.js";

export interface DeliveryWorkerOptions {
  allowPrivate: boolean;
  logger: Logger;
  lookup?: DnsLookup;
  /** How often the outbox is checked when nothing wakes the worker: rows written by other instances, retries. */
  pollIntervalMs?: number;
  /** Longer than a whole attempt (timeout plus recording), so a live worker never loses a row it is sending. */
  leaseMs?: number;
  timeoutMs?: number;
  concurrency?: number;
  /** Told the outcome of every attempt made (for metrics); interrupted attempts are not attempts. */
  onAttempt?: (succeeded: boolean) => void;
}

const DEFAULTS = { pollIntervalMs: 1000, leaseMs: 30_000, timeoutMs: 10_000, concurrency: 8 };

/**
 * Delivers the outbox: claims due rows with a lease, sends each signed attempt, records it. Woken at once
 * when this process writes due rows, and polls for the rest.
 */
export class DeliveryWorker {
  private readonly workerId = randomUUID();
  private readonly settings: Required<Omit<DeliveryWorkerOptions, "logger" | "onAttempt">>;
  private readonly onAttempt: (succeeded: boolean) => void;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly interrupted: ClaimedDelivery[] = [];
  private claimRounds = 0;
  private round: Promise<void> | null = null;
  private wakeAgain = false;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly deliveries: WebhookDeliveriesService,
    options: DeliveryWorkerOptions,
  ) {
    this.logger = options.logger.child({ component: "webhook-worker" });
    this.onAttempt = options.onAttempt ?? (() => {});
    this.settings = {
      allowPrivate: options.allowPrivate,
      lookup: options.lookup ?? systemLookup,
      pollIntervalMs: options.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
      leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      concurrency: options.concurrency ?? DEFAULTS.concurrency,
    };
  }

  start(): void {
    this.unsubscribe = this.deliveries.onDue(() => this.wake());
    this.wake();
  }

  /** Stops claiming, interrupts the requests in flight and gives their rows back unrecorded. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error("the webhook worker is stopping"));
    await this.round;
    await Promise.all(this.inFlight);
    await this.deliveries.release(this.interrupted).catch((error: unknown) => {
      this.logger.warn({ err: error }, "could not release interrupted deliveries; their leases will run out");
    });
  }

  private wake(): void {
    if (this.stopped) return;
    if (this.round) {
      this.wakeAgain = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.round = this.claimAndSend().finally(() => {
      this.round = null;
      if (this.stopped) return;
      if (this.wakeAgain) {
        this.wakeAgain = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.settings.pollIntervalMs);
        this.timer.unref();
      }
    });
  }

  private async claimAndSend(): Promise<void> {
    const room = this.settings.concurrency - this.inFlight.size;
    if (room <= 0) return;
    let claimed: ClaimedDelivery[];
    try {
      claimed = await this.deliveries.claim(`${this.workerId}:${++this.claimRounds}`, room, this.settings.leaseMs);
    } catch (error) {
      this.logger.warn({ err: error }, "could not claim webhook deliveries");
      return;
    }
    if (this.stopped) {
      this.interrupted.push(...claimed);
      return;
    }
    for (const delivery of claimed) this.track(this.deliver(delivery));
    // A full batch means more rows may be due right now.
    if (claimed.length === room) this.wakeAgain = true;
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => {
      this.inFlight.delete(delivery);
      this.wake();
    });
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const requestTime = now();
    const body = JSON.stringify({
      entity: delivery.entity,
      id: delivery.sessionId,
      event: delivery.event,
      webhook_id: delivery.webhook.id,
      webhook_invocation_id: delivery.invocationId,
      trigger_time: delivery.triggerTime.toISOString(),
      request_time: requestTime.toISOString(),
      attempt: delivery.attempt,
      payload: JSON.parse(delivery.payload) as unknown,
    });
    let result;
    try {
      result = await sendWebhook(
        {
          url: delivery.webhook.url,
          method: delivery.webhook.method,
          headers: delivery.webhook.headers,
          signature: signatureHeaders(delivery.webhook.secret, delivery.invocationId, requestTime, body),
          body,
        },
        {
          allowPrivate: this.settings.allowPrivate,
          lookup: this.settings.lookup,
          timeoutMs: this.settings.timeoutMs,
          signal: this.abort.signal,
        },
      );
    } catch {
      this.interrupted.push(delivery);
      return;
    }
    this.onAttempt(result.succeeded);
    const log = { invocation: delivery.invocationId, webhook: delivery.webhook.id, attempt: delivery.attempt };
    if (result.succeeded) this.logger.debug({ ...log, status: result.responseStatus }, "webhook delivered");
    else this.logger.info({ ...log, status: result.responseStatus, error: result.error }, "webhook attempt failed");
    try {
      const recorded = await this.deliveries.record(delivery, { requestTime, ...result });
      if (!recorded) this.logger.warn(log, "webhook attempt not recorded: the row was deleted or its lease was lost");
    } catch (error) {
      this.logger.error({ ...log, err: error }, "could not record a webhook attempt; it will be sent again when the lease runs out");
    }
  }
}

