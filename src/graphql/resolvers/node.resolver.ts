import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import type { GraphqlContext } from "../graphql-context.js";
import { LOOKUP_COST } from "../query-limits.js";
import { Node, type NodeView } from "../types/node.types.js";

@Resolver()
export class NodeResolver {
  @Query(() => Node, {
    nullable: true,
    complexity: LOOKUP_COST,
    description: "A session or a webhook of the caller's project by its id (the REST id); null for any other id.",
  })
  node(@Arg("id", () => ID) id: string, @Ctx() context: GraphqlContext): Promise<NodeView | null> {
    return context.loaders.node(id);
  }
}
