import { Field, ID, InterfaceType } from "type-graphql";
import type { SessionView, WebhookView } from "../../services/session-views.js";

/** What node(id) resolves to: the services' plain views of a session or a webhook. */
export type NodeView = SessionView | WebhookView;

/** Resolvers hand sessions over as the service's plain views; the kind names the GraphQL type. */
export const sessionTypeName = (session: SessionView): string => (session.kind === "verify" ? "VerifySession" : "CollectSession");

/** Only a session view has a kind. */
export const isSessionView = (node: NodeView): node is SessionView => "kind" in node;

@InterfaceType({
  resolveType: (node: NodeView) => (isSessionView(node) ? sessionTypeName(node) : "Webhook"),
  description: "An object with a global id: the same id as in REST.",
})
export abstract class Node {
  @Field(() => ID)
  id: string;
}
