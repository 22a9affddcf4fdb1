import { randomBytes } from "node:crypto";
import type { EntityManager, SelectQueryBuilder } from "typeorm";
import type { Database } from "../db/database.js";
import { Connection, Session, SessionKey, Webhook } from "../db/entities/index.js";
import { DomainError } from "../domain/errors.js";
import { newConnectionIdentifier, newId, now } from "../domain/ids.js";
import {
  canComplete,
  canUpdate,
  completedStatus,
  type SessionKind,
  type SessionStatus,
} from "../domain/session-rules.js";
import type { WebhookSettings } from "../domain/webhook-rules.js";
import type { RequestContext } from "./context.js";
import { keysetCondition, keysetOrder, type KeysetRequest, type KeysetResult, keysetResult } from "./keyset.js";
import {
  loadSessionDetail,
  loadSessionDetails,
  loadSessionParts,
  type SessionPart,
  type SessionParts,
} from "./session-details.js";
import type { SessionEvents } from "./session-events.js";
import { lockOwnSession } from "./session-lock.js";
import { prepareSessionInput, type PreparedKey, type SessionInput } from "./session-input.js";
import { type SessionDetail, type SessionView, toSessionView, type WebhookView } from "./session-views.js";

export interface SessionFilter {
  status?: SessionStatus | null;
  externalId?: string | null;
}

export interface OffsetPage {
  offset: number;
  limit: number;
}

export type WebhookTargetCheck = (url: string) => Promise<string | null>;

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export function webhookRow(session: Session, settings: WebhookSettings, at: Date): Webhook {
  return Object.assign(new Webhook(), {
    id: newId(at),
    sessionId: session.id,
    projectId: session.projectId,
    ...settings,
    secret: newWebhookSecret(),
    createdAt: at,
    updatedAt: at,
  });
}

/** A new session: its webhooks carry their signing secrets, shown this once. */
export type CreatedSessionDetail = SessionDetail & { webhooks: Array<WebhookView & { secret: string }> };

/** Verify and collect sessions: every rule that does not need SSH. */
export class SessionsService {
  constructor(
    private readonly database: Database,
    private readonly events: SessionEvents,
    private readonly checkWebhookTarget: WebhookTargetCheck,
  ) {}

  async create(context: RequestContext, kind: SessionKind, input: SessionInput): Promise<CreatedSessionDetail> {
    const at = now();
    const prepared = prepareSessionInput(kind, input, "create", at);
    await this.checkWebhookTargets(prepared.webhooks.map((webhook) => webhook.url));
    return this.database.transaction(async ({ manager }) => {
      const session = manager.create(Session, {
        id: newId(at),
        projectId: context.projectId,
        kind,
        connectionIdentifier: newConnectionIdentifier(),
        status: "pending",
        externalId: null,
        matchAllKeys: false,
        maxAttempts: 1,
        failedAttempts: 0,
        satisfiedConnections: 0,
        multiConnection: false,
        multiKey: false,
        mustConfirm: false,
        sshBanner: null,
        sshMessage: null,
        expiredAt: null,
        ...prepared.fields,
        createdAt: at,
        updatedAt: at,
      });
      await manager.insert(Session, session);
      if (prepared.keys) await this.insertKeys(manager, session, prepared.keys, at);
      const webhooks = prepared.webhooks.map((settings) => webhookRow(session, settings, at));
      if (webhooks.length > 0) await manager.insert(Webhook, webhooks);
      const detail = await loadSessionDetail(manager, session, at);
      // The answer to the create is the one place the new webhooks' signing secrets are shown.
      const secrets = new Map(webhooks.map((webhook) => [webhook.id, webhook.secret]));
      return { ...detail, webhooks: detail.webhooks.map((webhook) => ({ ...webhook, secret: secrets.get(webhook.id) ?? "" })) };
    });
  }

  async list(
    context: RequestContext,
    kind: SessionKind,
    filter: SessionFilter,
    page: OffsetPage,
  ): Promise<{ items: SessionView[]; total: number }> {
    const at = now();
    return this.database.read(async (manager) => {
      const query = this.filtered(manager, context, kind, filter, at);
      const total = await query.clone().getCount();
      const sessions = await query
        .orderBy("s.created_at", "DESC")
        .addOrderBy("s.id", "DESC")
        .offset(page.offset)
        .limit(page.limit)
        .getMany();
      return { items: sessions.map((session) => toSessionView(session, at)), total };
    });
  }

  async count(context: RequestContext, kind: SessionKind, filter: SessionFilter): Promise<number> {
    const at = now();
    return this.database.read((manager) => this.filtered(manager, context, kind, filter, at).getCount());
  }

  /**
   * One page of sessions by keyset, newest first in the result whatever the direction. Asks for one row
   * more than `count` so the caller knows whether more exist past the page.
   */
  async keysetPage(
    context: RequestContext,
    kind: SessionKind,
    filter: SessionFilter,
    request: KeysetRequest,
  ): Promise<KeysetResult<SessionView>> {
    const at = now();
    return this.database.read(async (manager) => {
      const query = this.filtered(manager, context, kind, filter, at);
      const condition = keysetCondition("s", request);
      if (condition) query.andWhere(condition.where, condition.parameters);
      const order = keysetOrder(request);
      const rows = await query.orderBy("s.created_at", order).addOrderBy("s.id", order).limit(request.count + 1).getMany();
      const { items, hasMore } = keysetResult(rows, request);
      return { items: items.map((session) => toSessionView(session, at)), hasMore };
    });
  }

  /** The session, or null when it does not exist, belongs to another project, or is of the other kind. */
  async find(context: RequestContext, kind: SessionKind, id: string): Promise<SessionDetail | null> {
    return this.database.read(async (manager) => {
      const session = await manager.findOneBy(Session, { id, projectId: context.projectId, kind });
      return session ? loadSessionDetail(manager, session) : null;
    });
  }

  /** The kind of the caller's session with this id, or null: one indexed read (subscriptions check ownership with it). */
  async kindOf(context: RequestContext, id: string): Promise<SessionKind | null> {
    const session = await this.database.read((manager) =>
      manager.findOne(Session, { select: { id: true, kind: true }, where: { id, projectId: context.projectId } }),
    );
    return session?.kind ?? null;
  }

  async get(context: RequestContext, kind: SessionKind, id: string): Promise<SessionDetail> {
    const detail = await this.find(context, kind, id);
    if (!detail) throw DomainError.notFound(`${kind} session`);
    return detail;
  }

  /** Sessions by id for a DataLoader; ids of other projects or kinds come back as null. */
  async findMany(context: RequestContext, ids: readonly string[]): Promise<Array<SessionDetail | null>> {
    if (ids.length === 0) return [];
    return this.database.read(async (manager) => {
      const sessions = await manager
        .createQueryBuilder(Session, "s")
        .where("s.id IN (:...ids)", { ids })
        .andWhere("s.project_id = :projectId", { projectId: context.projectId })
        .getMany();
      const details = new Map((await loadSessionDetails(manager, sessions)).map((detail) => [detail.id, detail]));
      return ids.map((id) => details.get(id) ?? null);
    });
  }

  /** Keys, connections or webhooks of sessions the caller has read (a DataLoader batch); other projects' get none. */
  async loadParts(context: RequestContext, sessions: readonly SessionView[], parts: ReadonlySet<SessionPart>): Promise<SessionParts> {
    const own = sessions.filter((session) => session.projectId === context.projectId);
    return this.database.read((manager) => loadSessionParts(manager, own, parts));
  }

  async update(context: RequestContext, kind: SessionKind, id: string, input: SessionInput): Promise<SessionDetail> {
    const at = now();
    const prepared = prepareSessionInput(kind, input, "update", at);
    if (prepared.webhooks.length > 0) {
      throw DomainError.invalid([{ path: ["webhooks"], message: "unexpected property", value: input.webhooks }]);
    }
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      const session = await lockOwnSession(transaction, context, kind, id);
      const connections = await manager.countBy(Connection, { sessionId: id });
      if (!canUpdate(session, connections, at)) {
        throw DomainError.conflict("a session can be changed only while pending and before any connection");
      }
      Object.assign(session, prepared.fields, { updatedAt: at });
      await manager.save(Session, session);
      if (prepared.keys) {
        await manager.delete(SessionKey, { sessionId: id });
        await this.insertKeys(manager, session, prepared.keys, at);
      }
      return loadSessionDetail(manager, session, at);
    });
  }

  /** Deletes the session; its keys, connections, webhooks and pending deliveries go with it (cascade). */
  async delete(context: RequestContext, kind: SessionKind, id: string): Promise<void> {
    await this.database.transaction(async (transaction) => {
      await lockOwnSession(transaction, context, kind, id);
      await transaction.manager.delete(Session, { id });
    });
  }

  /** Closes a multi-connection session: verified if a connection satisfied it (else failed); collect: completed. */
  async complete(context: RequestContext, kind: SessionKind, id: string): Promise<SessionDetail> {
    const at = now();
    return this.database.transaction(async (transaction) => {
      const session = await lockOwnSession(transaction, context, kind, id);
      if (!canComplete(session, at)) {
        throw DomainError.conflict("only a pending multi_connection session can be completed");
      }
      const previous = session.status;
      session.status = completedStatus(session);
      session.updatedAt = at;
      await transaction.manager.update(Session, { id }, { status: session.status, updatedAt: at });
      await this.events.statusChanged(transaction, session, previous, at);
      return loadSessionDetail(transaction.manager, session, at);
    });
  }

  /**
   * Marks pending sessions past `expired_at` as expired. A conditional update decides the one instance that
   * announces each expiry, so it is announced exactly once across instances.
   */
  async expireDue(batchSize = 100): Promise<number> {
    const at = now();
    const due = await this.database.read((manager) =>
      manager
        .createQueryBuilder(Session, "s")
        .where("s.status = 'pending' AND s.expired_at IS NOT NULL AND s.expired_at <= :at", { at })
        .orderBy("s.expired_at", "ASC")
        .limit(batchSize)
        .getMany(),
    );
    let expired = 0;
    for (const candidate of due) {
      const won = await this.database.transaction(async (transaction) => {
        const result = await transaction.manager.update(
          Session,
          { id: candidate.id, status: "pending" },
          { status: "expired", updatedAt: at },
        );
        if (!result.affected) return false;
        Object.assign(candidate, { status: "expired", updatedAt: at });
        await this.events.statusChanged(transaction, candidate, "pending", at);
        return true;
      });
      if (won) expired++;
    }
    return expired;
  }



  private filtered(
    manager: EntityManager,
    context: RequestContext,
    kind: SessionKind,
    filter: SessionFilter,
    at: Date,
  ): SelectQueryBuilder<Session> {
    const query = manager
      .createQueryBuilder(Session, "s")
      .where("s.project_id = :projectId AND s.kind = :kind", { projectId: context.projectId, kind });
    if (filter.externalId !== undefined && filter.externalId !== null) {
      query.andWhere("s.external_id = :externalId", { externalId: filter.externalId });
      // MariaDB's collation ignores case and trailing spaces; external_id matches exactly, as on SQLite.
      if (this.database.dialect === "mysql") query.andWhere("BINARY s.external_id = BINARY :externalId");
    }
    // The filter follows the reported status: a pending session past its expiry reads as expired.
    if (filter.status === "pending") {
      query.andWhere("s.status = 'pending' AND (s.expired_at IS NULL OR s.expired_at > :at)", { at });
    } else if (filter.status === "expired") {
      query.andWhere("(s.status = 'expired' OR (s.status = 'pending' AND s.expired_at <= :at))", { at });
    } else if (filter.status) {
      query.andWhere("s.status = :status", { status: filter.status });
    }
    return query;
  }

  private async insertKeys(manager: EntityManager, session: Session, keys: PreparedKey[], at: Date): Promise<void> {
    await manager.insert(
      SessionKey,
      keys.map((key, position) => ({
        id: newId(at),
        sessionId: session.id,
        position,
        name: key.name,
        externalId: key.externalId,
        publicKeyAlgorithm: key.parsed.algorithm,
        publicKeySsh: key.parsed.ssh,
        publicKeySha256: key.parsed.sha256,
        publicKeyMd5: key.parsed.md5,
        publicKeyPem: key.parsed.pem,
        verifiedAt: null,
        createdAt: at,
      })),
    );
  }

  private async checkWebhookTargets(urls: string[]): Promise<void> {
    const problems = await Promise.all(urls.map((url) => this.checkWebhookTarget(url)));
    const errors = problems.flatMap((problem, index) =>
      problem ? [{ path: ["webhooks", index, "url"], message: problem, value: urls[index] }] : [],
    );
    if (errors.length > 0) throw DomainError.invalid(errors);
  }
}
