import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "./node.types.js";

export enum WebhookMethod {
  POST = "post",
  PUT = "put",
  PATCH = "patch",
}

export enum WebhookEvent {
  NEW_CONNECTION = "new_connection",
  VERIFIED = "verified",
  FAILED_ATTEMPT = "failed_attempt",
  KEY_COLLECTED = "key_collected",
  STATUS_CHANGED = "status_changed",
}

registerEnumType(WebhookMethod, { name: "WebhookMethod" });
registerEnumType(WebhookEvent, {
  name: "WebhookEvent",
  description: "VERIFIED and FAILED_ATTEMPT exist for verify sessions only, KEY_COLLECTED for collect sessions only.",
});

@ObjectType({ simpleResolvers: true })
export class WebhookHeader {
  @Field()
  name: string;

  @Field(() => [String])
  values: string[];
}

@ObjectType({ implements: Node, description: "Where a session's events are delivered; node(id) reaches it by its id." })
export class Webhook implements Node {
  @Field(() => ID)
  id: string;

  @Field(() => ID, { description: "The session whose events it receives: node(id) reaches that session." })
  sessionId: string;

  @Field()
  url: string;

  @Field(() => WebhookMethod)
  method: WebhookMethod;

  @Field(() => [WebhookEvent], { description: "Empty: every event." })
  events: WebhookEvent[];

  @Field(() => Int)
  retries: number;

  @Field(() => Int, { description: "Seconds before the first retry." })
  initialBackoff: number;

  @Field(() => Float)
  backoffMultiplier: number;

  @Field(() => String, {
    nullable: true,
    description: "The signing secret: in the answer of the mutation that created the webhook, null everywhere else.",
  })
  secret?: string | null;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date)
  updatedAt: Date;
}

@InputType()
export class WebhookHeaderInput {
  @Field()
  name: string;

  @Field(() => [String])
  values: string[];
}

@InputType({ description: "A webhook; omitted settings take their defaults." })
export class WebhookInput {
  @Field()
  url: string;

  @Field(() => WebhookMethod, { nullable: true, description: "Default POST." })
  method?: WebhookMethod | null;

  @Field(() => [WebhookHeaderInput], { nullable: true, description: "webhook-* headers cannot be set." })
  headers?: WebhookHeaderInput[] | null;

  @Field(() => [WebhookEvent], { nullable: true, description: "Empty or omitted: every event." })
  events?: WebhookEvent[] | null;

  @Field(() => Int, { nullable: true, description: "0..20, default 0." })
  retries?: number | null;

  @Field(() => Int, { nullable: true, description: "Seconds, 1..86400, default 10." })
  initialBackoff?: number | null;

  @Field(() => Float, { nullable: true, description: "1..10, default 2." })
  backoffMultiplier?: number | null;
}
