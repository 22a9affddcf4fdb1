import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { WebhookInvocationView } from "../../services/webhook-views.js";
import { connectionType } from "./connection.types.js";
import { WebhookEvent, WebhookHeaderInput, WebhookMethod } from "./webhook.types.js";

export enum WebhookInvocationStatus {
  PENDING = "pending",
  SUCCEEDED = "succeeded",
  FAILED = "failed",
}

registerEnumType(WebhookInvocationStatus, {
  name: "WebhookInvocationStatus",
  description: "PENDING until an attempt gets a 2xx answer (SUCCEEDED) or the retries run out (FAILED).",
});

@ObjectType({ description: "One attempt to deliver an invocation." })
export class WebhookAttempt {
  @Field(() => Int, { description: "1 for the first delivery, 2 for the first retry, and so on." })
  attempt: number;

  @Field(() => Date)
  requestTime: Date;

  @Field(() => Int, { nullable: true, description: "The HTTP status of the answer; null when there was none." })
  responseStatus: number | null;

  @Field(() => String, { nullable: true, description: "The start of the answer's body, at most 4 KiB." })
  responseBody: string | null;

  @Field(() => String, { nullable: true, description: "Why the attempt did not count as delivered; null on success." })
  error: string | null;
}

@ObjectType({ description: "One event for one webhook, with its delivery attempts." })
export class WebhookInvocation {
  @Field(() => ID, { description: "`webhook_invocation_id` in the body and `webhook-id` in the headers of every attempt." })
  id: string;

  @Field(() => ID)
  webhookId: string;

  @Field(() => ID)
  sessionId: string;

  @Field(() => WebhookEvent)
  event: WebhookEvent;

  @Field(() => WebhookInvocationStatus)
  status: WebhookInvocationStatus;

  @Field(() => Date)
  triggerTime: Date;

  @Field(() => [WebhookAttempt])
  attempts: WebhookAttempt[];

  @Field(() => Date, { nullable: true, description: "When the next attempt is due while PENDING." })
  nextAttemptAt: Date | null;
}

export const WebhookInvocationConnection = connectionType<WebhookInvocationView>(
  "WebhookInvocation",
  WebhookInvocation,
  "Every invocation of the webhook, whatever the page.",
);

@InputType({ description: "Changes to a webhook: omitted fields stay as they are, null restores a field's default." })
export class UpdateWebhookInput {
  @Field(() => String, { nullable: true, description: "Cannot be null." })
  url?: string | null;

  @Field(() => WebhookMethod, { nullable: true })
  method?: WebhookMethod | null;

  @Field(() => [WebhookHeaderInput], { nullable: true, description: "Replaces every header; webhook-* headers cannot be set." })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => [WebhookEvent], { nullable: true, description: "Empty: every event." })
  events?: WebhookEvent[] | null;

  @Field(() => Int, { nullable: true, description: "0..20." })
  retries?: number | null;

  @Field(() => Int, { nullable: true, description: "Seconds, 1..86400." })
  initialBackoff?: number | null;

  @Field(() => Float, { nullable: true, description: "1..10." })
  backoffMultiplier?: number | null;
}
