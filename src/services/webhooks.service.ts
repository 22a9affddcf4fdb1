import { type EntityManager, In, type SelectQueryBuilder } from "typeorm";
import type { Database, Transaction } from "../db/database.js";
import { Session, Webhook, WebhookAttempt, WebhookInvocation } from "../db/entities/index.js";
import { hydrate, type Row } from "../db/plain-sql.js";
import { DomainError } from "../domain/errors.js";
import { now } from "../domain/ids.js";
import type { SessionKind } from "../domain/session-rules.js";
import { webhookErrors, withWebhookDefaults, type WebhookSettings } from "../domain/webhook-rules.js";
import type { RequestContext } from "./context.js";
import { keysetCondition, keysetOrder, type KeysetRequest, type KeysetResult, keysetResult } from "./keyset.js";
import { groupBy } from "./session-details.js";
import { lockOwnSession } from "./session-lock.js";
import { SESSION_LIMITS } from "./session-input.js";
import { toWebhookView, type WebhookView } from "./session-views.js";
import { type OffsetPage, type WebhookTargetCheck, webhookRow } from "./sessions.service.js";
import type { WebhookDeliveriesService } from "./webhook-deliveries.service.js";
import { toInvocationView, type WebhookInvocationView } from "./webhook-views.js";

/** Webhook settings as an adapter hands them over: `undefined` leaves a field as it is, `null` restores its default. */
export type WebhookChanges = { [Field in keyof WebhookSettings]?: WebhookSettings[Field] | null };

/** The one response that shows the signing secret. */
export interface CreatedWebhookView extends WebhookView {
  secret: string;
}

/**
 * Where a webhook is looked for: always within the caller's project; REST also names the session and its kind,
 * GraphQL only the webhook id.
 */
export interface WebhookScope {
  sessionId?: string;
  kind?: SessionKind;
}

interface LocatedWebhook {
  webhook: Webhook;
  kind: SessionKind;
}

/** Webhook configs of a session, their invocations, and retrying an invocation. */
export class WebhooksService {
  constructor(
    private readonly database: Database,
    private readonly deliveries: WebhookDeliveriesService,
    private readonly checkWebhookTarget: WebhookTargetCheck,
  ) {}

  async list(
    context: RequestContext,
    kind: SessionKind,
    sessionId: string,
    page: OffsetPage,
  ): Promise<{ items: WebhookView[]; total: number }> {
    return this.database.read(async (manager) => {
      await this.findSession(manager, context, sessionId, kind);
      const [webhooks, total] = await manager.findAndCount(Webhook, {
        where: { sessionId },
        order: { createdAt: "DESC", id: "DESC" },
        skip: page.offset,
        take: page.limit,
      });
      return { items: webhooks.map(toWebhookView), total };
    });
  }

  /** Adds a webhook to a session of the caller's project (of `kind`, when given: REST names it, GraphQL does not). */
  async create(context: RequestContext, sessionId: string, input: WebhookChanges, kind?: SessionKind): Promise<CreatedWebhookView> {
    const { kind: sessionKind } = await this.database.read((manager) => this.findSession(manager, context, sessionId, kind));
    const settings = withWebhookDefaults(withoutNulls(input));
    const errors = webhookErrors(settings, sessionKind, []);
    if (errors.length > 0) throw DomainError.invalid(errors);
    await this.checkTarget(settings.url);
    const at = now();
    return this.database.transaction(async (transaction) => {
      // Under the session's row lock (MySQL), so a concurrent create or delete sees a settled count.
      const session = await lockOwnSession(transaction, context, sessionKind, sessionId);
      const count = await transaction.manager.countBy(Webhook, { sessionId });
      if (count >= SESSION_LIMITS.maxWebhooks) {
        throw DomainError.conflict(`a session has at most ${SESSION_LIMITS.maxWebhooks} webhooks`);
      }
      const webhook = webhookRow(session, settings, at);
      await transaction.manager.insert(Webhook, webhook);
      return { ...toWebhookView(webhook), secret: webhook.secret };
    });
  }

  async get(context: RequestContext, webhookId: string, scope: WebhookScope = {}): Promise<WebhookView> {
    const { webhook } = await this.database.read((manager) => this.locate(manager, context, webhookId, scope));
    return toWebhookView(webhook);
  }

  /** The caller's webhooks with these ids (a DataLoader batch; unknown or another project's: null), in one statement. */
  async findMany(context: RequestContext, ids: readonly string[]): Promise<Array<WebhookView | null>> {
    if (ids.length === 0) return [];
    const webhooks = await this.database.read((manager) => manager.findBy(Webhook, { id: In([...ids]), projectId: context.projectId }));
    const views = new Map(webhooks.map((webhook) => [webhook.id, toWebhookView(webhook)]));
    return ids.map((id) => views.get(id) ?? null);
  }

  /** Changes the fields given (PUT and PATCH alike); the result must satisfy every rule of a new webhook. */
  async update(context: RequestContext, webhookId: string, input: WebhookChanges, scope: WebhookScope = {}): Promise<WebhookView> {
    const { webhook, kind } = await this.database.read((manager) => this.locate(manager, context, webhookId, scope));
    const changes = changedSettings(input);
    const settings: WebhookSettings = { ...settingsOf(webhook), ...changes };
    const errors = webhookErrors(settings, kind, []);
    if (input.url === null) errors.unshift({ path: ["url"], message: "expected an absolute http or https URL", value: null });
    if (errors.length > 0) throw DomainError.invalid(errors);
    if (changes.url !== undefined) await this.checkTarget(settings.url);
    return this.database.transaction(async (transaction) => {
      const { webhook: current } = await this.locate(transaction.manager, context, webhookId, scope, transaction);
      Object.assign(current, changes, { updatedAt: now() });
      await transaction.manager.save(Webhook, current);
      return toWebhookView(current);
    });
  }

  /** Deletes the webhook with its invocations and attempts; a delivery in flight is then not recorded. */
  async delete(context: RequestContext, webhookId: string, scope: WebhookScope = {}): Promise<void> {
    await this.database.transaction(async (transaction) => {
      await this.locate(transaction.manager, context, webhookId, scope, transaction);
      await transaction.manager.delete(Webhook, { id: webhookId });
    });
  }

  /** A webhook's invocations, newest first, each with its attempts: two queries whatever the page size. */
  async invocations(
    context: RequestContext,
    webhookId: string,
    page: OffsetPage,
    scope: WebhookScope = {},
  ): Promise<{ items: WebhookInvocationView[]; total: number }> {
    return this.database.read(async (manager) => {
      await this.locate(manager, context, webhookId, scope);
      const [invocations, total] = await manager.findAndCount(WebhookInvocation, {
        where: { webhookId },
        order: { createdAt: "DESC", id: "DESC" },
        skip: page.offset,
        take: page.limit,
      });
      return { items: await withAttempts(manager, invocations), total };
    });
  }

  /**
   * A keyset page of invocations, newest first, for each of these webhooks (a DataLoader batch); webhooks of
   * another project get an empty page. One statement for the pages and one for their attempts, however many webhooks.
   */
  async invocationPages(
    context: RequestContext,
    webhookIds: readonly string[],
    request: KeysetRequest,
  ): Promise<Map<string, KeysetResult<WebhookInvocationView>>> {
    const pages = new Map(webhookIds.map((webhookId) => [webhookId, keysetResult<WebhookInvocationView>([], request)]));
    if (webhookIds.length === 0) return pages;
    return this.database.read(async (manager) => {
      const order = keysetOrder(request);
      // Each webhook's rows numbered in walking order, so one statement cuts every webhook's page at once.
      const ranked = ownInvocations(manager, context, webhookIds)
        .select("i.*")
        .addSelect(`ROW_NUMBER() OVER (PARTITION BY i.webhook_id ORDER BY i.created_at ${order}, i.id ${order})`, "keyset_rank");
      const condition = keysetCondition("i", request);
      if (condition) ranked.andWhere(condition.where, condition.parameters);
      const rows = await manager
        .createQueryBuilder()
        .select("ranked.*")
        .from(`(${ranked.getQuery()})`, "ranked")
        .setParameters(ranked.getParameters())
        .where("ranked.keyset_rank <= :rowsPerWebhook", { rowsPerWebhook: request.count + 1 })
        .orderBy("ranked.keyset_rank", "ASC")
        .getRawMany<Row>();
      const walked = groupBy(rows.map((row) => hydrate(manager, WebhookInvocation, row)), (invocation) => invocation.webhookId);
      const cut = [...walked].map(([webhookId, invocations]) => ({ webhookId, page: keysetResult(invocations, request) }));
      // Attempts only of the rows on a page: not of the look-ahead row, nor of a count-0 "anything there?" request.
      const views = await withAttempts(manager, cut.flatMap(({ page }) => page.items));
      const viewById = new Map(views.map((view) => [view.id, view]));
      for (const { webhookId, page } of cut) {
        pages.set(webhookId, { items: page.items.flatMap((invocation) => viewById.get(invocation.id) ?? []), hasMore: page.hasMore });
      }
      return pages;
    });
  }

  /** How many invocations each of these webhooks has (a DataLoader batch; another project's: 0), in one statement. */
  async countInvocations(context: RequestContext, webhookIds: readonly string[]): Promise<Map<string, number>> {
    if (webhookIds.length === 0) return new Map();
    const rows = await this.database.read((manager) =>
      ownInvocations(manager, context, webhookIds)
        .select("i.webhook_id", "webhook_id")
        .addSelect("COUNT(*)", "total")
        .groupBy("i.webhook_id")
        .getRawMany<{ webhook_id: string; total: number | string }>(),
    );
    return new Map(rows.map((row) => [row.webhook_id, Number(row.total)]));
  }

  /** Makes the invocation due now, whatever its status; the next attempt continues its numbering. */
  async retry(
    context: RequestContext,
    invocationId: string,
    scope: WebhookScope & { webhookId?: string } = {},
  ): Promise<WebhookInvocationView> {
    return this.database.transaction(async (transaction) => {
      const { manager } = transaction;
      const found = await transaction
        .forUpdate(manager.createQueryBuilder(WebhookInvocation, "i"))
        .innerJoin(Webhook, "w", "w.id = i.webhook_id")
        .where("i.id = :invocationId AND w.project_id = :projectId", { invocationId, projectId: context.projectId })
        .getOne();
      if (!found || (scope.webhookId !== undefined && found.webhookId !== scope.webhookId)) {
        throw DomainError.notFound("webhook invocation");
      }
      await this.locate(manager, context, found.webhookId, scope);
      Object.assign(found, { status: "pending", nextAttemptAt: now() });
      await manager.update(WebhookInvocation, { id: invocationId }, { status: "pending", nextAttemptAt: found.nextAttemptAt });
      transaction.afterCommit(() => this.deliveries.announceDue());
      const [view] = await withAttempts(manager, [found]);
      return view;
    });
  }

  private async findSession(manager: EntityManager, context: RequestContext, id: string, kind?: SessionKind): Promise<Session> {
    const session = await manager.findOneBy(Session, { id, projectId: context.projectId, ...(kind ? { kind } : {}) });
    if (!session) throw DomainError.notFound(kind ? `${kind} session` : "session");
    return session;
  }

  /** The webhook within the caller's project (and the session and kind of the scope); NOT_FOUND otherwise. */
  private async locate(
    manager: EntityManager,
    context: RequestContext,
    webhookId: string,
    scope: WebhookScope,
    transaction?: Transaction,
  ): Promise<LocatedWebhook> {
    if (scope.sessionId !== undefined && scope.kind !== undefined) {
      await this.findSession(manager, context, scope.sessionId, scope.kind);
    }
    const query = manager
      .createQueryBuilder(Webhook, "w")
      .innerJoin(Session, "s", "s.id = w.session_id")
      .addSelect("s.kind", "session_kind")
      .where("w.id = :webhookId AND w.project_id = :projectId", { webhookId, projectId: context.projectId });
    if (scope.sessionId !== undefined) query.andWhere("w.session_id = :sessionId", { sessionId: scope.sessionId });
    if (scope.kind !== undefined) query.andWhere("s.kind = :kind", { kind: scope.kind });
    const { entities, raw } = await (transaction ? transaction.forUpdate(query) : query).getRawAndEntities();
    const webhook = entities[0];
    if (!webhook) throw DomainError.notFound("webhook");
    return { webhook, kind: (raw[0] as { session_kind: SessionKind }).session_kind };
  }

  private async checkTarget(url: string): Promise<void> {
    const problem = await this.checkWebhookTarget(url);
    if (problem) throw DomainError.invalid([{ path: ["url"], message: problem, value: url }]);
  }
}

/** The invocations of these webhooks that belong to the caller's project, as `i`. */
function ownInvocations(manager: EntityManager, context: RequestContext, webhookIds: readonly string[]): SelectQueryBuilder<WebhookInvocation> {
  return manager
    .createQueryBuilder(WebhookInvocation, "i")
    .innerJoin(Webhook, "w", "w.id = i.webhook_id")
    .where("i.webhook_id IN (:...webhookIds) AND w.project_id = :projectId", { webhookIds, projectId: context.projectId });
}

async function withAttempts(manager: EntityManager, invocations: WebhookInvocation[]): Promise<WebhookInvocationView[]> {
  if (invocations.length === 0) return [];
  const attempts = await manager.find(WebhookAttempt, {
    where: { invocationId: In(invocations.map((invocation) => invocation.id)) },
    order: { attempt: "ASC" },
  });
  // Grouped once: a batch of pages can hold thousands of invocations.
  const attemptsOf = groupBy(attempts, (attempt) => attempt.invocationId);
  return invocations.map((invocation) => toInvocationView(invocation, attemptsOf.get(invocation.id) ?? []));
}

function settingsOf(webhook: Webhook): WebhookSettings {
  const { url, method, headers, events, retries, initialBackoff, backoffMultiplier } = webhook;
  return { url, method, headers, events, retries, initialBackoff, backoffMultiplier };
}

function withoutNulls(input: WebhookChanges): Partial<WebhookSettings> {
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== null && value !== undefined));
}

/** The fields an update sets: given values as they are, `null` as the default (the URL has none). */
function changedSettings(input: WebhookChanges): Partial<WebhookSettings> {
  const defaults = withWebhookDefaults({ url: "" });
  const changes: Partial<WebhookSettings> = {};
  for (const field of Object.keys(defaults) as Array<keyof WebhookSettings>) {
    const value = input[field];
    if (value === undefined || (value === null && field === "url")) continue;
    Object.assign(changes, { [field]: value ?? defaults[field] });
  }
  return changes;
}
