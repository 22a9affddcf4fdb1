import { Arg, ID, Resolver, Root, type SubscribeResolverData, Subscription } from "type-graphql";
import type { SessionEvent, StatusChangedEvent } from "../../services/pubsub.js";
import type { GraphqlContext } from "../graphql-context.js";
import { sessionEvents, statusChanges } from "./subscription-sources.js";
import { CollectSessionStatusChange, SessionEventMessage, VerifySessionStatusChange } from "./subscription.types.js";

type SubscribeData<Args> = SubscribeResolverData<unknown, Args, GraphqlContext>;

/**
 * Live status over WebSocket (graphql-ws on `/graphql`). Each payload is the snapshot published after the
 * commit, so resolving `session` with its keys, connections and webhooks reads no database.
 */
@Resolver()
export class SessionSubscriptionsResolver {
  @Subscription(() => VerifySessionStatusChange, {
    description: "Status changes of one verify session (`id`), or of every verify session of the caller's project.",
    subscribe: ({ args, context }: SubscribeData<{ id?: string | null }>) => statusChanges(context, "verify", args.id ?? null),
  })
  verifySessionStatusChanged(
    @Root() change: StatusChangedEvent,
    @Arg("id", () => ID, { nullable: true }) _id: string | null,
  ): StatusChangedEvent {
    return change;
  }

  @Subscription(() => CollectSessionStatusChange, {
    description: "Status changes of one collect session (`id`), or of every collect session of the caller's project.",
    subscribe: ({ args, context }: SubscribeData<{ id?: string | null }>) => statusChanges(context, "collect", args.id ?? null),
  })
  collectSessionStatusChanged(
    @Root() change: StatusChangedEvent,
    @Arg("id", () => ID, { nullable: true }) _id: string | null,
  ): StatusChangedEvent {
    return change;
  }

  @Subscription(() => SessionEventMessage, {
    description: "Every event of one session (NEW_CONNECTION, STATUS_CHANGED, ...) with the payload its webhooks carry.",
    subscribe: ({ args, context }: SubscribeData<{ id: string }>) => sessionEvents(context, args.id),
  })
  sessionEvents(@Root() event: SessionEvent, @Arg("id", () => ID) _id: string): SessionEvent {
    return event;
  }
}
