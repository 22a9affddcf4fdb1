import { Field, InputType, Int } from "type-graphql";
import type { WebhookInput as WebhookSettingsInput } from "../../domain/webhook-rules.js";
import type { KeyInput, SessionInput } from "../../services/session-input.js";
import { CollectSessionStatus, VerifySessionStatus } from "./session-status.types.js";
import { WebhookInput } from "./webhook.types.js";

/**
 * Settings both kinds share. In an update an omitted field stays as it is and `null` clears it (a merge patch);
 * the classes keep that difference because type-graphql copies only the fields the client sent.
 */
@InputType("SessionSettingsInput")
export class SessionSettingsInput {
  @Field(() => String, { nullable: true })
  externalId?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Keep accepting connections until completed. Default false." })
  multiConnection?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "Ask the client for every key it holds. Default false." })
  multiKey?: boolean | null;

  @Field(() => Boolean, { nullable: true, description: "The person must press y to confirm. Default false." })
  mustConfirm?: boolean | null;

  @Field(() => String, { nullable: true, description: "Sent as the SSH authentication banner." })
  sshBanner?: string | null;

  @Field(() => String, { nullable: true, description: "Written to the session channel after authentication." })
  sshMessage?: string | null;

  @Field(() => Date, { nullable: true, description: "Not with timeout. Neither: the session never expires." })
  expiredAt?: Date | null;

  @Field(() => Int, { nullable: true, description: "Seconds from now until the session expires. Not with expiredAt." })
  timeout?: number | null;
}

@InputType()
export class VerifySessionKeyInput {
  @Field({ description: "An authorized_keys line, an RFC 4716 block or a PEM public key." })
  publicKey: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  externalId?: string | null;
}

@InputType("VerifySettingsInput")
class VerifySettingsInput extends SessionSettingsInput {
  @Field(() => Boolean, { nullable: true, description: "Verified only when one connection proves every key. Default false." })
  matchAllKeys?: boolean | null;

  @Field(() => Int, { nullable: true, description: "Failed connections before the session fails. Default 1." })
  maxAttempts?: number | null;
}

@InputType()
export class CreateVerifySessionInput extends VerifySettingsInput {
  @Field(() => [VerifySessionKeyInput], { description: "1 to 100 keys." })
  keys: VerifySessionKeyInput[];

  @Field(() => [WebhookInput], { nullable: true })
  webhooks?: WebhookInput[] | null;
}

@InputType({ description: "A merge patch: omitted fields stay, null clears, keys replace the whole list." })
export class UpdateVerifySessionInput extends VerifySettingsInput {
  @Field(() => [VerifySessionKeyInput], { nullable: true })
  keys?: VerifySessionKeyInput[] | null;
}

@InputType()
export class CreateCollectSessionInput extends SessionSettingsInput {
  @Field(() => [WebhookInput], { nullable: true })
  webhooks?: WebhookInput[] | null;
}

@InputType({ description: "A merge patch: omitted fields stay, null clears." })
export class UpdateCollectSessionInput extends SessionSettingsInput {}

@InputType()
export class VerifySessionFilter {
  @Field(() => VerifySessionStatus, { nullable: true })
  status?: VerifySessionStatus | null;

  @Field(() => String, { nullable: true })
  externalId?: string | null;
}

@InputType()
export class CollectSessionFilter {
  @Field(() => CollectSessionStatus, { nullable: true })
  status?: CollectSessionStatus | null;

  @Field(() => String, { nullable: true })
  externalId?: string | null;
}

const orUndefined = <T>(value: T | null | undefined): T | undefined => value ?? undefined;

function toWebhookSettings(input: WebhookInput): WebhookSettingsInput {
  const headers: Record<string, string[]> = {};
  for (const header of input.headers ?? []) headers[header.name] = [...(headers[header.name] ?? []), ...header.values];
  return {
    url: input.url,
    method: orUndefined(input.method),
    headers,
    events: orUndefined(input.events),
    retries: orUndefined(input.retries),
    initialBackoff: orUndefined(input.initialBackoff),
    backoffMultiplier: orUndefined(input.backoffMultiplier),
  };
}

/** The service's input: the same camelCase names, with absent fields left absent so a patch stays a patch. */
export function toSessionInput(
  input: SessionSettingsInput & {
    matchAllKeys?: boolean | null;
    maxAttempts?: number | null;
    keys?: VerifySessionKeyInput[] | null;
    webhooks?: WebhookInput[] | null;
  },
): SessionInput {
  const { keys, webhooks, ...settings } = input;
  const result: SessionInput = { ...settings };
  if (keys !== undefined) result.keys = keys && keys.map((key): KeyInput => ({ ...key }));
  if (webhooks !== undefined) result.webhooks = webhooks && webhooks.map(toWebhookSettings);
  return result;
}
