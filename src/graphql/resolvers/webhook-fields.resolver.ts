import { Args, Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { WebhookView } from "../../services/session-views.js";
import type { WebhookInvocationView } from "../../services/webhook-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { cursorScope } from "../pagination/keyset-cursor.js";
import { loadKeysetPage, planPage } from "../pagination/keyset-page.js";
import { pageCost } from "../query-limits.js";
import { type Connection, toConnection } from "../types/connection.types.js";
import { PagingArgs } from "../types/paging.types.js";
import { WebhookInvocationConnection } from "../types/webhook-invocation.types.js";
import { Webhook, WebhookHeader } from "../types/webhook.types.js";

@Resolver(() => Webhook)
export class WebhookFieldsResolver {
  /** REST's `{name: [values]}` map as a list, since GraphQL has no map type. */
  @FieldResolver(() => [WebhookHeader])
  headers(@Root() webhook: WebhookView): WebhookHeader[] {
    return Object.entries(webhook.headers).map(([name, values]) => ({ name, values }));
  }

  /**
   * Through the request's DataLoaders: the invocations of every webhook on a page of sessions load together. Each
   * webhook's invocations are a list of their own, so a cursor pages only the webhook it came from.
   */
  @FieldResolver(() => WebhookInvocationConnection, {
    complexity: pageCost,
    description: "The webhook's invocations (one per event), newest first, each with its delivery attempts.",
  })
  async invocations(
    @Root() webhook: WebhookView,
    @Args() paging: PagingArgs,
    @Ctx() context: GraphqlContext,
  ): Promise<Connection<WebhookInvocationView>> {
    const plan = planPage(paging, cursorScope("webhook-invocations", context.caller.projectId, webhook.id));
    const page = await loadKeysetPage((request) => context.loaders.invocationPage(webhook, request), plan);
    return toConnection(WebhookInvocationConnection, page, () => context.loaders.invocationCount(webhook));
  }
}
