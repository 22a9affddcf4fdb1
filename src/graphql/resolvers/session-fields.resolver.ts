import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { ConnectionView, SessionDetail, SessionView, WebhookView } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { SshConnection } from "../types/session-part.types.js";
import { Session } from "../types/session.types.js";
import { Webhook } from "../types/webhook.types.js";

/**
 * Fields of both kinds. A session from a mutation or a lookup arrives with its parts; one from a page arrives
 * bare and its parts come through the request's DataLoaders.
 */
@Resolver(() => Session)
export class SessionFieldsResolver {
  @FieldResolver(() => String)
  sshCommand(@Root() session: SessionView, @Ctx() context: GraphqlContext): string {
    return context.sshCommand(session.connectionIdentifier);
  }

  @FieldResolver(() => [SshConnection])
  connections(@Root() session: SessionView | SessionDetail, @Ctx() context: GraphqlContext): ConnectionView[] | Promise<ConnectionView[]> {
    return "connections" in session ? session.connections : context.loaders.connections(session);
  }

  @FieldResolver(() => [Webhook])
  webhooks(@Root() session: SessionView | SessionDetail, @Ctx() context: GraphqlContext): WebhookView[] | Promise<WebhookView[]> {
    return "webhooks" in session ? session.webhooks : context.loaders.webhooks(session);
  }
}
