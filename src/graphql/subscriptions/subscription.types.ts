import { JSONResolver } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { CollectSessionStatus, VerifySessionStatus } from "../types/session-status.types.js";
import { CollectSession, VerifySession } from "../types/session.types.js";
import { WebhookEvent } from "../types/webhook.types.js";

@ObjectType({ simpleResolvers: true, description: "A verify session's status changed; `session` is the session right after the change." })
export class VerifySessionStatusChange {
  @Field(() => VerifySession)
  session: VerifySession;

  @Field(() => VerifySessionStatus)
  previousStatus: VerifySessionStatus;

  @Field(() => VerifySessionStatus)
  status: VerifySessionStatus;

  @Field(() => Date)
  changedAt: Date;
}

@ObjectType({ simpleResolvers: true, description: "A collect session's status changed; `session` is the session right after the change." })
export class CollectSessionStatusChange {
  @Field(() => CollectSession)
  session: CollectSession;

  @Field(() => CollectSessionStatus)
  previousStatus: CollectSessionStatus;

  @Field(() => CollectSessionStatus)
  status: CollectSessionStatus;

  @Field(() => Date)
  changedAt: Date;
}

@ObjectType("SessionEvent", { simpleResolvers: true, description: "One event of a session, as its webhooks receive it." })
export class SessionEventMessage {
  @Field(() => WebhookEvent)
  event: WebhookEvent;

  @Field(() => ID)
  sessionId: string;

  @Field(() => Date)
  triggerTime: Date;

  @Field(() => JSONResolver, { description: "The webhook payload, e.g. `verify_session_id`, `verify_session_status`." })
  payload: Record<string, unknown>;
}
