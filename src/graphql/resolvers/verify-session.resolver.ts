import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import type { SessionDetail, SessionKeyView, SessionView } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { LOOKUP_COST, MUTATION_COST, pageCost } from "../query-limits.js";
import { type SessionConnection, VerifySessionConnection } from "../types/session-connection.types.js";
import {
  CreateVerifySessionInput,
  toSessionInput,
  UpdateVerifySessionInput,
  VerifySessionFilter,
} from "../types/session-input.types.js";
import { VerifySessionKey } from "../types/session-part.types.js";
import { VerifySession } from "../types/session.types.js";
import { PagingArgs } from "../types/paging.types.js";
import { findSession, listSessions } from "./session-queries.js";

/** Verify sessions: each resolver checks nothing but shape and calls the sessions service. */
@Resolver(() => VerifySession)
export class VerifySessionResolver {
  @Query(() => VerifySessionConnection, { complexity: pageCost, description: "The caller's verify sessions, newest first." })
  verifySessions(
    @Args() paging: PagingArgs,
    @Arg("filter", () => VerifySessionFilter, { nullable: true }) filter: VerifySessionFilter | null,
    @Ctx() context: GraphqlContext,
  ): Promise<SessionConnection> {
    return listSessions(context, "verify", VerifySessionConnection, paging, filter);
  }

  @Query(() => VerifySession, { nullable: true, complexity: LOOKUP_COST })
  verifySession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<SessionDetail | null> {
    return findSession(context, "verify", id);
  }

  @Mutation(() => VerifySession, { complexity: MUTATION_COST })
  createVerifySession(@Arg("input") input: CreateVerifySessionInput, @Ctx() context: GraphqlContext): Promise<SessionDetail> {
    return context.services.sessions.create(context.caller, "verify", toSessionInput(input));
  }

  @Mutation(() => VerifySession, { complexity: MUTATION_COST, description: "Only while pending and before any connection." })
  updateVerifySession(
    @Arg("id", () => ID) id: string,
    @Arg("input") input: UpdateVerifySessionInput,
    @Ctx() context: GraphqlContext,
  ): Promise<SessionDetail> {
    return context.services.sessions.update(context.caller, "verify", id, toSessionInput(input));
  }

  @Mutation(() => VerifySession, {
    complexity: MUTATION_COST,
    description: "Closes a pending multiConnection session: VERIFIED if a connection satisfied it, else FAILED.",
  })
  completeVerifySession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<SessionDetail> {
    return context.services.sessions.complete(context.caller, "verify", id);
  }

  @Mutation(() => ID, { complexity: MUTATION_COST, description: "Deletes the session with its connections, keys and webhooks." })
  async deleteVerifySession(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<string> {
    await context.services.sessions.delete(context.caller, "verify", id);
    return id;
  }

  @FieldResolver(() => [VerifySessionKey], { description: "The configured keys." })
  keys(@Root() session: SessionView | SessionDetail, @Ctx() context: GraphqlContext): SessionKeyView[] | Promise<SessionKeyView[]> {
    return "keys" in session ? session.keys : context.loaders.keys(session);
  }
}
