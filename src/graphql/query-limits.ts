import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import { type ComplexityEstimator, fieldExtensionsEstimator, getComplexity, simpleEstimator } from "graphql-query-complexity";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination/keyset-page.js";

/**
 * How deep selection sets may nest; a field and a fragment (inline or spread) are one level each. The deepest
 * legitimate query, `verifySessions.edges.node(... on VerifySession).webhooks.invocations.edges.node.attempts.error`,
 * is 10. Introspection (`__schema`, `__type`) is not counted: its standard query nests deeper and costs no SQL.
 */
export const MAX_QUERY_DEPTH = 10;

/** A full page of 100 sessions with every field, keys, connections and webhooks costs about 6,000. */
export const MAX_QUERY_COST = 20_000;

/** Reads that go to the database on their own (one session, one node) cost this plus their selection. */
export const LOOKUP_COST = 10;

/** Every mutation writes in a transaction: aliasing hundreds of them is what the cost limit is for. */
export const MUTATION_COST = 100;

/** A connection costs its selection once per row (session, invocation) it may return. */
export const pageCost: ComplexityEstimator = ({ args, childComplexity }) => {
  const size = [args.first, args.last].find((value): value is number => typeof value === "number") ?? DEFAULT_PAGE_SIZE;
  // Sizes out of range are refused by the resolver with BAD_USER_INPUT, so they are priced at the bounds.
  return LOOKUP_COST + Math.min(Math.max(size, 1), MAX_PAGE_SIZE) * childComplexity;
};

function depthOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  if (!selectionSet) return 0;
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue;
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments, visiting));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments, visiting));
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      // A fragment cycle is reported by graphql's own NoFragmentCycles rule; here it only must not loop.
      if (!fragment || visiting.has(name)) continue;
      visiting.add(name);
      deepest = Math.max(deepest, 1 + depthOf(fragment.selectionSet, fragments, visiting));
      visiting.delete(name);
    }
  }
  return deepest;
}

/** A validation rule: runs with graphql's own rules, before any resolver. */
export function depthLimitRule(maxDepth: number = MAX_QUERY_DEPTH) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map(
      context
        .getDocument()
        .definitions.filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, fragments, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`query nesting depth ${depth} exceeds the limit of ${maxDepth}`, {
              nodes: [operation],
              extensions: { code: "GRAPHQL_VALIDATION_FAILED", depth, limit: maxDepth },
            }),
          );
        }
      },
    };
  };
}

/**
 * The cost check needs the variables (`first: $n`), which validation rules do not see, so it runs once the
 * operation is known and before execution. Throws a GraphQLError when the query is too expensive.
 */
export function checkQueryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | undefined,
  maxCost: number = MAX_QUERY_COST,
): void {
  let cost: number;
  try {
    cost = getComplexity({
      schema,
      query: document,
      operationName: operationName ?? undefined,
      variables,
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    // Variables that do not fit their types: execution would reject them too, with the same message.
    const message = error instanceof Error ? error.message : String(error);
    throw new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
  }
  if (cost > maxCost) {
    throw new GraphQLError(`query cost ${cost} exceeds the limit of ${maxCost}`, {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost, limit: maxCost, http: { status: 400 } },
    });
  }
}
