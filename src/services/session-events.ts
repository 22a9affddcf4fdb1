import type { Transaction } from "../db/database.js";
import { type Session, Webhook, WebhookInvocation } from "../db/entities/index.js";
import { hydrate, selectRows } from "../db/plain-sql.js";
import { newId } from "../domain/ids.js";
import type { SessionStatus } from "../domain/session-rules.js";
import type { GatewayPubSub } from "./pubsub.js";
import { loadSessionDetail } from "./session-details.js";

export type SessionEventName = "new_connection" | "verified" | "failed_attempt" | "key_collected" | "status_changed";

/** `verify_session` or `collect_session`: the prefix of payload fields and the webhook `entity`. */
export function entityName(session: Pick<Session, "kind">): "verify_session" | "collect_session" {
  return session.kind === "verify" ? "verify_session" : "collect_session";
}

/** Every payload starts with the session's id, external id and connection identifier. */
export function payloadBase(session: Session): Record<string, unknown> {
  const prefix = entityName(session);
  return {
    [`${prefix}_id`]: session.id,
    [`${prefix}_external_id`]: session.externalId,
    [`${prefix}_connection_identifier`]: session.connectionIdentifier,
  };
}

/**
 * Writes the outbox rows of an event in the caller's transaction and publishes it once the transaction
 * has committed, never before.
 */
export class SessionEvents {
  /** A session's webhooks, read once per transaction however many events it records. */
  private readonly webhooksRead = new WeakMap<Transaction, Map<string, Webhook[]>>();

  constructor(
    private readonly pubSub: GatewayPubSub,
    private readonly onInvocationsWritten: () => void = () => {},
  ) {}

  async record(
    transaction: Transaction,
    session: Session,
    event: SessionEventName,
    fields: Record<string, unknown>,
    at: Date,
  ): Promise<void> {
    const payload = { ...payloadBase(session), ...fields };
    const webhooks = await this.webhooksOf(transaction, session.id);
    const subscribed = webhooks.filter((webhook) => webhook.events.length === 0 || webhook.events.includes(event));
    if (subscribed.length > 0) {
      await transaction.manager.insert(
        WebhookInvocation,
        subscribed.map((webhook) =>
          Object.assign(new WebhookInvocation(), {
          id: newId(at),
          webhookId: webhook.id,
          sessionId: session.id,
          event,
          payload: JSON.stringify(payload),
          status: "pending" as const,
          attemptCount: 0,
          triggerTime: at,
          nextAttemptAt: at,
          leaseUntil: null,
          leaseOwner: null,
          createdAt: at,
          }),
        ),
      );
      transaction.afterCommit(this.onInvocationsWritten);
    }
    const { kind, projectId, id: sessionId } = session;
    transaction.afterCommit(() =>
      this.pubSub.publish("session-event:session", sessionId, { kind, projectId, sessionId, event, triggerTime: at, payload }),
    );
  }

  /** Records `status_changed` and publishes a snapshot of the session as it is after the change. */
  async statusChanged(transaction: Transaction, session: Session, previousStatus: SessionStatus, at: Date): Promise<void> {
    const prefix = entityName(session);
    await this.record(
      transaction,
      session,
      "status_changed",
      { [`${prefix}_status`]: session.status, [`${prefix}_previous_status`]: previousStatus },
      at,
    );
    // The webhooks this transaction has read already (record above): the same rows, not read again.
    const snapshot = await loadSessionDetail(transaction.manager, session, at, await this.webhooksOf(transaction, session.id));
    const change = {
      kind: session.kind,
      projectId: session.projectId,
      session: snapshot,
      previousStatus,
      status: session.status,
      changedAt: at,
    };
    transaction.afterCommit(() => {
      this.pubSub.publish("session-status:session", session.id, change);
      this.pubSub.publish("session-status:project", session.projectId, change);
    });
  }

  private async webhooksOf(transaction: Transaction, sessionId: string): Promise<Webhook[]> {
    let bySession = this.webhooksRead.get(transaction);
    if (bySession === undefined) this.webhooksRead.set(transaction, (bySession = new Map()));
    let webhooks = bySession.get(sessionId);
    if (webhooks === undefined) {
      const rows = await selectRows(transaction.manager, "SELECT * FROM webhooks WHERE session_id = ? ORDER BY created_at, id", [sessionId]);
      webhooks = rows.map((row) => hydrate(transaction.manager, Webhook, row));
      bySession.set(sessionId, webhooks);
    }
    return webhooks;
  }
}
