import type { WebhookAttempt, WebhookInvocation } from "../db/entities/index.js";
import type { InvocationStatus } from "../db/entities/webhook-invocation.entity.js";

/** One attempt to deliver an invocation: the response, or why there was none. */
export interface WebhookAttemptView {
  attempt: number;
  requestTime: Date;
  responseStatus: number | null;
  /** At most 4 KiB of the response body. */
  responseBody: string | null;
  error: string | null;
}

/** One event for one webhook, with every attempt so far. */
export interface WebhookInvocationView {
  id: string;
  webhookId: string;
  sessionId: string;
  event: string;
  status: InvocationStatus;
  triggerTime: Date;
  payload: Record<string, unknown>;
  attempts: WebhookAttemptView[];
  /** When the next attempt is due; null once it succeeded or failed for good. */
  nextAttemptAt: Date | null;
  /** With the id, the invocation's place in the newest-first order. */
  createdAt: Date;
}

export function toInvocationView(invocation: WebhookInvocation, attempts: WebhookAttempt[]): WebhookInvocationView {
  return {
    id: invocation.id,
    webhookId: invocation.webhookId,
    sessionId: invocation.sessionId,
    event: invocation.event,
    status: invocation.status,
    triggerTime: invocation.triggerTime,
    payload: JSON.parse(invocation.payload) as Record<string, unknown>,
    attempts: attempts.map((attempt) => ({
      attempt: attempt.attempt,
      requestTime: attempt.requestTime,
      responseStatus: attempt.responseStatus,
      responseBody: attempt.responseBody,
      error: attempt.error,
    })),
    nextAttemptAt: invocation.status === "pending" ? invocation.nextAttemptAt : null,
    createdAt: invocation.createdAt,
  };
}
