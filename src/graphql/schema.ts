import { createPubSub } from "@graphql-yoga/subscription";
import { DateTimeResolver } from "graphql-scalars";
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchemaSync, type NonEmptyArray } from "type-graphql";
import { CollectSessionResolver } from "./resolvers/collect-session.resolver.js";
import { NodeResolver } from "./resolvers/node.resolver.js";
import { SessionFieldsResolver } from "./resolvers/session-fields.resolver.js";
import { SessionSubscriptionsResolver } from "./subscriptions/session-subscriptions.resolver.js";
import { VerifySessionResolver } from "./resolvers/verify-session.resolver.js";
import { WebhookFieldsResolver } from "./resolvers/webhook-fields.resolver.js";
import { WebhookMutationsResolver } from "./resolvers/webhook-mutations.resolver.js";

/** Every resolver class of the API; a new feature (webhooks, subscriptions) adds its resolver here. */
const RESOLVERS: NonEmptyArray<Function> = [
  VerifySessionResolver,
  CollectSessionResolver,
  NodeResolver,
  SessionFieldsResolver,
  WebhookFieldsResolver,
  WebhookMutationsResolver,
  SessionSubscriptionsResolver,
];

/** The schema from the decorated classes; built once per process. */
export function buildGatewaySchema(): GraphQLSchema {
  return buildSchemaSync({
    resolvers: RESOLVERS,
    // Dates are RFC 3339 `DateTime`s, as REST's times are.
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    // type-graphql wants a pub/sub once there are subscriptions; ours subscribe to the gateway's own (services.pubSub)
    // in their `subscribe` functions (src/graphql/subscriptions), so this one never carries an event.
    pubSub: createPubSub(),
    // Adapters check shape only (the GraphQL types do that); every rule lives in the services.
    validate: false,
  });
}

/** The SDL as schema/schema.graphql holds it: sorted, so the file changes only when the schema does. */
export function printGatewaySchema(schema: GraphQLSchema = buildGatewaySchema()): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
