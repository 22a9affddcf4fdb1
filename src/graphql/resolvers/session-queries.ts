import { ArgsType, Field, Int } from "type-graphql";
import type { SessionKind, SessionStatus } from "../../domain/session-rules.js";
import type { SessionDetail } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { loadSessionPage, type PagingArguments, planPage } from "../pagination/session-page.js";
import {
  type CollectSessionConnection,
  type SessionConnection,
  toSessionConnection,
  type VerifySessionConnection,
} from "../types/session-connection.types.js";

@ArgsType()
export class PagingArgs implements PagingArguments {
  @Field(() => Int, { nullable: true, description: "Newest first: this many sessions (0..100, default 100) after `after`." })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: "This many sessions (0..100) just newer than `before`." })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}

/** The paging and filter every session list shares; the count runs only when `totalCount` is selected. */
export async function listSessions(
  context: GraphqlContext,
  kind: SessionKind,
  type: typeof VerifySessionConnection | typeof CollectSessionConnection,
  paging: PagingArgs,
  filter: { status?: SessionStatus | null; externalId?: string | null } | null,
): Promise<SessionConnection> {
  const plan = planPage(paging);
  const sessionFilter = { status: filter?.status ?? null, externalId: filter?.externalId ?? null };
  const { caller, services } = context;
  const page = await loadSessionPage(services.sessions, caller, kind, sessionFilter, plan);
  return toSessionConnection(type, page, () => services.sessions.count(caller, kind, sessionFilter));
}

/** Another project's session, or one of the other kind, reads as null. */
export async function findSession(context: GraphqlContext, kind: SessionKind, id: string): Promise<SessionDetail | null> {
  const session = await context.loaders.session(id);
  return session?.kind === kind ? session : null;
}
