import { In } from "typeorm";
import type { Database } from "../db/database.js";
import { Session, Webhook, WebhookAttempt, WebhookInvocation } from "../db/entities/index.js";
import { newId, now } from "../domain/ids.js";
import { backoffSeconds } from "../domain/webhook-rules.js";
import { entityName } from "./session-events.js";

/** One attempt a worker holds the lease for: everything needed to send it without touching the database. */
export interface ClaimedDelivery {
  invocationId: string;
  /** 1-based; the number of attempts recorded before plus one. */
  attempt: number;
  event: string;
  triggerTime: Date;
  /** The event payload as JSON text, exactly as written to the outbox. */
  payload: string;
  sessionId: string;
  entity: "verify_session" | "collect_session";
  webhook: Pick<
    Webhook,
    "id" | "url" | "method" | "headers" | "secret" | "retries" | "initialBackoff" | "backoffMultiplier"
  >;
  /** The lease token: only its holder may record the outcome or give the row back. */
  leaseToken: string;
}

export interface AttemptOutcome {
  requestTime: Date;
  succeeded: boolean;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

/**
 * The outbox side of webhook delivery. Rows are claimed with a lease in a short transaction
 * (`FOR UPDATE SKIP LOCKED` on MySQL, a conditional update on both), so no lock is held while the HTTP
 * request runs; an outcome is recorded only by the lease holder, with the attempt number as a fence.
 */
export class WebhookDeliveriesService {
  private readonly dueListeners = new Set<() => void>();

  constructor(private readonly database: Database) {}

  /** Called after a commit that made deliveries due, so a worker in this process starts at once. */
  announceDue(): void {
    for (const listener of this.dueListeners) listener();
  }

  onDue(listener: () => void): () => void {
    this.dueListeners.add(listener);
    return () => this.dueListeners.delete(listener);
  }

  async claim(leaseToken: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      const at = now();
      const leaseUntil = new Date(at.getTime() + leaseMs);
      const due = "status = 'pending' AND next_attempt_at <= :at AND (lease_until IS NULL OR lease_until <= :at)";
      let candidates = manager
        .createQueryBuilder(WebhookInvocation, "i")
        .select("i.id")
        .where(due, { at })
        .orderBy("i.next_attempt_at", "ASC")
        .limit(limit);
      if (transaction.dialect === "mysql") candidates = candidates.setLock("pessimistic_write").setOnLocked("skip_locked");
      const ids = (await candidates.getMany()).map((row) => row.id);
      if (ids.length === 0) return [];
      // Conditional, so a second process on the same SQLite file cannot take a row already leased.
      await manager
        .createQueryBuilder()
        .update(WebhookInvocation)
        .set({ leaseUntil, leaseOwner: leaseToken })
        .where(`id IN (:...ids) AND ${due}`, { ids, at })
        .execute();
      const claimed = await manager.findBy(WebhookInvocation, { id: In(ids), leaseOwner: leaseToken });
      if (claimed.length === 0) return [];
      const webhooks = await manager.findBy(Webhook, { id: In([...new Set(claimed.map((row) => row.webhookId))]) });
      const sessions = await manager.find(Session, {
        select: { id: true, kind: true },
        where: { id: In([...new Set(claimed.map((row) => row.sessionId))]) },
      });
      const webhookById = new Map(webhooks.map((webhook) => [webhook.id, webhook]));
      const sessionById = new Map(sessions.map((session) => [session.id, session]));
      return claimed.flatMap((row) => {
        const webhook = webhookById.get(row.webhookId);
        const session = sessionById.get(row.sessionId);
        if (!webhook || !session) return [];
        return [
          {
            invocationId: row.id,
            attempt: row.attemptCount + 1,
            event: row.event,
            triggerTime: row.triggerTime,
            payload: row.payload,
            sessionId: row.sessionId,
            entity: entityName(session),
            webhook,
            leaseToken,
          },
        ];
      });
    });
  }

  /**
   * Records the attempt and decides what follows: done on a 2xx, else another attempt after the backoff
   * while retries remain, else failed. False when the lease was lost (or the row deleted): nothing is written.
   */
  async record(delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<boolean> {
    return this.database.transaction(async ({ manager }) => {
      const at = now();
      const { webhook, attempt } = delivery;
      const status = outcome.succeeded ? "succeeded" : attempt > webhook.retries ? "failed" : "pending";
      const nextAttemptAt = status === "pending" ? new Date(at.getTime() + backoffSeconds(webhook, attempt) * 1000) : null;
      const updated = await manager
        .createQueryBuilder()
        .update(WebhookInvocation)
        .set({ status, attemptCount: attempt, nextAttemptAt, leaseUntil: null, leaseOwner: null })
        .where("id = :id AND lease_owner = :leaseToken AND attempt_count = :previous", {
          id: delivery.invocationId,
          leaseToken: delivery.leaseToken,
          previous: attempt - 1,
        })
        .execute();
      if (!updated.affected) return false;
      await manager.insert(WebhookAttempt, {
        id: newId(outcome.requestTime),
        invocationId: delivery.invocationId,
        attempt,
        requestTime: outcome.requestTime,
        responseStatus: outcome.responseStatus,
        responseBody: outcome.responseBody,
        error: outcome.error,
      });
      return true;
    });
  }

  /** Gives leased rows back without an attempt (the worker is stopping), so any worker can send them at once. */
  async release(deliveries: ClaimedDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      await this.database.transaction(({ manager }) =>
        manager
          .createQueryBuilder()
          .update(WebhookInvocation)
          .set({ leaseUntil: null, leaseOwner: null })
          .where("id = :id AND lease_owner = :leaseToken", { id: delivery.invocationId, leaseToken: delivery.leaseToken })
          .execute(),
      );
    }
  }
}
