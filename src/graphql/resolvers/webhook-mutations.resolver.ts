import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import type { WebhookView } from "../../services/session-views.js";
import type { CreatedWebhookView, WebhookChanges } from "../../services/webhooks.service.js";
import type { WebhookInvocationView } from "../../services/webhook-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { MUTATION_COST } from "../query-limits.js";
import { UpdateWebhookInput, WebhookInvocation } from "../types/webhook-invocation.types.js";
import { type WebhookHeaderInput, Webhook, WebhookInput } from "../types/webhook.types.js";

/** The header list GraphQL takes as REST's `{name: [values]}` map; a repeated name adds its values. */
function headerMap(headers: WebhookHeaderInput[]): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const header of headers) map[header.name] = [...(map[header.name] ?? []), ...header.values];
  return map;
}

/** The service's changes: omitted stays undefined (unchanged), null stays null (default). */
function toWebhookChanges(input: WebhookInput | UpdateWebhookInput): WebhookChanges {
  return {
    url: input.url,
    method: input.method,
    headers: input.headers === undefined || input.headers === null ? input.headers : headerMap(input.headers),
    events: input.events,
    retries: input.retries,
    initialBackoff: input.initialBackoff,
    backoffMultiplier: input.backoffMultiplier,
  };
}

/** Webhooks of either session kind, addressed by id within the caller's project. */
@Resolver()
export class WebhookMutationsResolver {
  @Mutation(() => Webhook, { complexity: MUTATION_COST, description: "Adds a webhook to a session; the answer shows its secret, this once." })
  createWebhook(
    @Arg("sessionId", () => ID) sessionId: string,
    @Arg("input") input: WebhookInput,
    @Ctx() context: GraphqlContext,
  ): Promise<CreatedWebhookView> {
    return context.services.webhooks.create(context.caller, sessionId, toWebhookChanges(input));
  }

  @Mutation(() => Webhook, { complexity: MUTATION_COST })
  updateWebhook(
    @Arg("id", () => ID) id: string,
    @Arg("input") input: UpdateWebhookInput,
    @Ctx() context: GraphqlContext,
  ): Promise<WebhookView> {
    return context.services.webhooks.update(context.caller, id, toWebhookChanges(input));
  }

  @Mutation(() => ID, { complexity: MUTATION_COST, description: "Deletes the webhook with its invocations." })
  async deleteWebhook(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<string> {
    await context.services.webhooks.delete(context.caller, id);
    return id;
  }

  @Mutation(() => WebhookInvocation, { complexity: MUTATION_COST, description: "Delivers the invocation again, now." })
  retryWebhookInvocation(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<WebhookInvocationView> {
    return context.services.webhooks.retry(context.caller, id);
  }
}
