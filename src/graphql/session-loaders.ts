import DataLoader from "dataloader";
import type { RequestContext } from "../services/context.js";
import type { Services } from "../services/index.js";
import type { SessionPart } from "../services/session-details.js";
import type { ConnectionView, SessionDetail, SessionKeyView, SessionView, WebhookView } from "../services/session-views.js";

interface PartRequest {
  session: SessionView;
  part: SessionPart;
}

type PartValue = SessionKeyView[] | ConnectionView[] | WebhookView[];

/**
 * Per-request DataLoaders, so a page of sessions costs a fixed number of statements: every `keys`,
 * `connections` and `webhooks` field of one tick is loaded together, each part in one statement.
 */
export class SessionLoaders {
  private readonly sessions: DataLoader<string, SessionDetail | null>;
  private readonly parts: DataLoader<PartRequest, PartValue, string>;

  constructor(services: Services, caller: RequestContext) {
    this.sessions = new DataLoader((ids) => services.sessions.findMany(caller, ids));
    this.parts = new DataLoader(
      async (requests) => {
        const sessions = [...new Map(requests.map(({ session }) => [session.id, session])).values()];
        const loaded = await services.sessions.loadParts(caller, sessions, new Set(requests.map(({ part }) => part)));
        return requests.map(({ session, part }): PartValue => loaded[part].get(session.id) ?? []);
      },
      { cacheKeyFn: ({ session, part }) => `${part}:${session.id}` },
    );
  }

  /** The caller's session with this id, of either kind, or null. */
  session(id: string): Promise<SessionDetail | null> {
    return this.sessions.load(id);
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
}
