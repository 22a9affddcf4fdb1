import type { SessionKind, SessionStatus } from "../../domain/session-rules.js";
import type { SessionDetail } from "../../services/session-views.js";
import type { GraphqlContext } from "../graphql-context.js";
import { cursorScope } from "../pagination/keyset-cursor.js";
import { loadKeysetPage, planPage } from "../pagination/keyset-page.js";
import { toConnection } from "../types/connection.types.js";
import type { PagingArgs } from "../types/paging.types.js";
import type { CollectSessionConnection, SessionConnection, VerifySessionConnection } from "../types/session-connection.types.js";

/**
 * The paging and filter every session list shares; the count runs only when `totalCount` is selected. A list is
 * the project's sessions of one kind under one filter: a cursor of another filter is refused like any other list's.
 */
export async function listSessions(
  context: GraphqlContext,
  kind: SessionKind,
  type: typeof VerifySessionConnection | typeof CollectSessionConnection,
  paging: PagingArgs,
  filter: { status?: SessionStatus | null; externalId?: string | null } | null,
): Promise<SessionConnection> {
  const sessionFilter = { status: filter?.status ?? null, externalId: filter?.externalId ?? null };
  const { caller, services } = context;
  const plan = planPage(paging, cursorScope("sessions", caller.projectId, kind, sessionFilter.status, sessionFilter.externalId));
  const page = await loadKeysetPage((request) => services.sessions.keysetPage(caller, kind, sessionFilter, request), plan);
  return toConnection(type, page, () => services.sessions.count(caller, kind, sessionFilter));
}

/** Another project's session, or one of the other kind, reads as null. */
export async function findSession(context: GraphqlContext, kind: SessionKind, id: string): Promise<SessionDetail | null> {
  const session = await context.loaders.session(id);
  return session?.kind === kind ? session : null;
}
