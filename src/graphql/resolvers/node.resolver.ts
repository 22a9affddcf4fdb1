import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import type { SessionDetail } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { LOOKUP_COST } from "../query-limits.js";
import { Node } from "../types/session.types.js";

@Resolver()
export class NodeResolver {
  @Query(() => Node, { nullable: true, complexity: LOOKUP_COST, description: "Any session by its id (the REST id)." })
  node(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<SessionDetail | null> {
    return context.loaders.session(id);
  }
}
