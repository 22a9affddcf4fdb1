import DataLoader from "dataloader";
import type { RequestContext } from "../services/context.js";
import type { Services } from "../services/index.js";
import type { KeysetRequest, KeysetResult } from "../services/keyset.js";
import type { SessionPart } from "../services/session-details.js";
import type { ConnectionView, SessionDetail, SessionKeyView, SessionView, WebhookView } from "../services/session-views.js";
import type { WebhookInvocationView } from "../services/webhook-views.js";

interface PartRequest {
  session: SessionView;
  part: SessionPart;
}

type PartValue = SessionKeyView[] | ConnectionView[] | WebhookView[];

interface InvocationPageRequest {
  webhookId: string;
  request: KeysetRequest;
}

type InvocationPage = KeysetResult<WebhookInvocationView>;

/** Requests that may share one statement: the same direction, position and size. */
function keysetKey({ direction, from, count, includeFrom }: KeysetRequest): string {
  return [direction, count, includeFrom === true, from?.createdAt.getTime() ?? "", from?.id ?? ""].join(":");
}

/** Every webhook's page of one batch, in one service call per distinct keyset request (one per paging argument set). */
async function loadInvocationPages(
  services: Services,
  caller: RequestContext,
  requests: readonly InvocationPageRequest[],
): Promise<InvocationPage[]> {
  const batches = new Map<string, { request: KeysetRequest; webhookIds: string[] }>();
  for (const { webhookId, request } of requests) {
    const key = keysetKey(request);
    const batch = batches.get(key) ?? { request, webhookIds: [] };
    batch.webhookIds.push(webhookId);
    batches.set(key, batch);
  }
  const pages = new Map<string, Map<string, InvocationPage>>();
  await Promise.all(
    [...batches].map(async ([key, { request, webhookIds }]) => pages.set(key, await services.webhooks.invocationPages(caller, webhookIds, request))),
  );
  return requests.map(({ webhookId, request }) => pages.get(keysetKey(request))?.get(webhookId) ?? { items: [], hasMore: false });
}

/**
 * Per-request DataLoaders, so a page of sessions costs a fixed number of statements: every `keys`,
 * `connections` and `webhooks` field of one tick is loaded together, each part in one statement, and so are
 * the webhooks' `invocations` pages and counts.
 */
export class SessionLoaders {
  private readonly sessions: DataLoader<string, SessionDetail | null>;
  private readonly webhooksById: DataLoader<string, WebhookView | null>;
  private readonly parts: DataLoader<PartRequest, PartValue, string>;
  private readonly invocationPages: DataLoader<InvocationPageRequest, InvocationPage, string>;
  private readonly invocationCounts: DataLoader<string, number>;

  constructor(services: Services, caller: RequestContext) {
    this.sessions = new DataLoader((ids) => services.sessions.findMany(caller, ids));
    this.webhooksById = new DataLoader((ids) => services.webhooks.findMany(caller, ids));
    this.parts = new DataLoader(
      async (requests) => {
        const sessions = [...new Map(requests.map(({ session }) => [session.id, session])).values()];
        const loaded = await services.sessions.loadParts(caller, sessions, new Set(requests.map(({ part }) => part)));
        return requests.map(({ session, part }): PartValue => loaded[part].get(session.id) ?? []);
      },
      { cacheKeyFn: ({ session, part }) => `${part}:${session.id}` },
    );
    this.invocationPages = new DataLoader((requests) => loadInvocationPages(services, caller, requests), {
      cacheKeyFn: ({ webhookId, request }) => `${keysetKey(request)}:${webhookId}`,
    });
    this.invocationCounts = new DataLoader(async (webhookIds) => {
      const counts = await services.webhooks.countInvocations(caller, webhookIds);
      return webhookIds.map((webhookId) => counts.get(webhookId) ?? 0);
    });
  }

  /** The caller's session with this id, of either kind, or null. */
  session(id: string): Promise<SessionDetail | null> {
    return this.sessions.load(id);
  }

  /**
   * The caller's session or webhook with this id, or null. The session is tried first, so a session id costs what
   * verifySession(id) does; only a miss tries the webhooks. An unknown id and another project's session or webhook
   * all take the same two lookups by primary key and answer null.
   */
  async node(id: string): Promise<SessionDetail | WebhookView | null> {
    return (await this.sessions.load(id)) ?? this.webhooksById.load(id);
  }

  keys(session: SessionView): Promise<SessionKeyView[]> {
    return this.parts.load({ session, part: "keys" }) as Promise<SessionKeyView[]>;
  }

  connections(session: SessionView): Promise<ConnectionView[]> {
    return this.parts.load({ session, part: "connections" }) as Promise<ConnectionView[]>;
  }

  webhooks(session: SessionView): Promise<WebhookView[]> {
    return this.parts.load({ session, part: "webhooks" }) as Promise<WebhookView[]>;
  }

  /** One keyset page of the webhook's invocations (another project's webhook: none). */
  invocationPage(webhook: WebhookView, request: KeysetRequest): Promise<InvocationPage> {
    return this.invocationPages.load({ webhookId: webhook.id, request });
  }

  invocationCount(webhook: WebhookView): Promise<number> {
    return this.invocationCounts.load(webhook.id);
  }
}
