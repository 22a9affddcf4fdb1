import { FieldResolver, Resolver, Root } from "type-graphql";
import type { WebhookView } from "../../services/session-views.js";
import { Webhook, WebhookHeader } from "../types/webhook.types.js";

@Resolver(() => Webhook)
export class WebhookFieldsResolver {
  /** REST's `{name: [values]}` map as a list, since GraphQL has no map type. */
  @FieldResolver(() => [WebhookHeader])
  headers(@Root() webhook: WebhookView): WebhookHeader[] {
    return Object.entries(webhook.headers).map(([name, values]) => ({ name, values }));
  }
}
