import type { Transaction } from "../db/database.js";
import { Session } from "../db/entities/index.js";
import { DomainError } from "../domain/errors.js";
import type { SessionKind } from "../domain/session-rules.js";
import type { RequestContext } from "./context.js";

/** Reads the caller's session under a row lock (MySQL) for a change; another project's session is NOT_FOUND. */
export async function lockOwnSession(
  transaction: Transaction,
  context: RequestContext,
  kind: SessionKind,
  id: string,
): Promise<Session> {
  const session = await transaction
    .forUpdate(transaction.manager.createQueryBuilder(Session, "s"))
    .where("s.id = :id AND s.project_id = :projectId AND s.kind = :kind", { id, projectId: context.projectId, kind })
    .getOne();
  if (!session) throw DomainError.notFound(`${kind} session`);
  return session;
}
