import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { SessionDetail, SessionKeyView, SessionView } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { LOOKUP_COST, MUTATION_COST, pageCost } from "../query-limits.js";
import { type SessionConnection, CollectSessionConnection } from "../types/session-connection.types.js";
import {
  CreateCollectSessionInput,
  toSessionInput,
  UpdateCollectSessionInput,
  CollectSessionFilter,
} from "../types/session-input.types.js";
import { CollectSessionKey } from "../types/session-part.types.js";
import { CollectSession } from "../types/session.types.js";
import { PagingArgs } from "../types/paging.types.js";
import { findSession, listSessions } from "./session-queries.js";

/** Collect sessions: each resolver checks nothing but shape and calls the sessions service. */
@Resolver(() => CollectSession)
export class CollectSessionResolver {
  @Query(() => CollectSessionConnection, { complexity: pageCost, description: "The caller's collect sessions, newest first." })
  collectSessions(
    @Args() paging: PagingArgs,
    @Arg("filter", () => CollectSessionFilter, { nullable: true }) filter: CollectSessionFilter | null,
    @Ctx() context: GraphqlContext,
  ): Promise<SessionConnection> {
    return listSessions(context, "collect", CollectSessionConnection, paging, filter);
  }

  @Query(() => CollectSession, { nullable: true, complexity: LOOKUP_COST })
  collectSession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<SessionDetail | null> {
    return findSession(context, "collect", id);
  }

  @Mutation(() => CollectSession, { complexity: MUTATION_COST })
  createCollectSession(@Arg("input") input: CreateCollectSessionInput, @Ctx() context: GraphqlContext): Promise<SessionDetail> {
    return context.services.sessions.create(context.caller, "collect", toSessionInput(input));
  }

  @Mutation(() => CollectSession, { complexity: MUTATION_COST, description: "Only while pending and before any connection." })
  updateCollectSession(
    @Arg("id", () => ID) id: string,
    @Arg("input") input: UpdateCollectSessionInput,
    @Ctx() context: GraphqlContext,
  ): Promise<SessionDetail> {
    return context.services.sessions.update(context.caller, "collect", id, toSessionInput(input));
  }

  @Mutation(() => CollectSession, {
    complexity: MUTATION_COST,
    description: "Closes a pending multiConnection session: COMPLETED.",
  })
  completeCollectSession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<SessionDetail> {
    return context.services.sessions.complete(context.caller, "collect", id);
  }

  @Mutation(() => ID, { complexity: MUTATION_COST, description: "Deletes the session with its connections, keys and webhooks." })
  async deleteCollectSession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<string> {
    await context.services.sessions.delete(context.caller, "collect", id);
    return id;
  }

  @FieldResolver(() => [CollectSessionKey], { description: "The keys collected so far." })
  keys(@Root() session: SessionView | SessionDetail, @Ctx() context: GraphqlContext): SessionKeyView[] | Promise<SessionKeyView[]> {
    return "keys" in session ? session.keys : context.loaders.keys(session);
  }
}
