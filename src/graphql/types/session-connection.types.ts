import { type ClassType, Field, Int, ObjectType } from "type-graphql";
import type { SessionView } from "../../services/session-views.js";
import { encodeCursor } from "../pagination/session-cursor.js";
import type { SessionPage } from "../pagination/session-page.js";
import { CollectSession, VerifySession } from "./session.types.js";

/** Relay's PageInfo. The flags are methods: one of them may need a statement, run only when selected. */
@ObjectType()
export class PageInfo {
  constructor(private readonly page: SessionPage) {}

  @Field(() => Boolean)
  hasNextPage(): Promise<boolean> {
    return this.page.hasNextPage();
  }

  @Field(() => Boolean)
  hasPreviousPage(): Promise<boolean> {
    return this.page.hasPreviousPage();
  }

  @Field(() => String, { nullable: true })
  startCursor(): string | null {
    const first = this.page.sessions[0];
    return first ? encodeCursor(first) : null;
  }

  @Field(() => String, { nullable: true })
  endCursor(): string | null {
    const last = this.page.sessions.at(-1);
    return last ? encodeCursor(last) : null;
  }
}

export interface SessionConnection {
  edges: Array<{ cursor: string; node: SessionView }>;
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

/** `<Name>Connection` and `<Name>Edge` over one kind of session; `totalCount` counts only when selected. */
function sessionConnectionType(name: string, nodeType: ClassType) {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field()
    cursor: string;

    @Field(() => nodeType)
    node: SessionView;
  }

  @ObjectType(`${name}Connection`)
  class Connection implements SessionConnection {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    countAll: () => Promise<number>;

    @Field(() => Int, { description: "Every session that matches the filter, whatever the page." })
    totalCount(): Promise<number> {
      return this.countAll();
    }
  }
  return Connection;
}

export const VerifySessionConnection = sessionConnectionType("VerifySession", VerifySession);
export const CollectSessionConnection = sessionConnectionType("CollectSession", CollectSession);

export function toSessionConnection(
  type: typeof VerifySessionConnection | typeof CollectSessionConnection,
  page: SessionPage,
  countAll: () => Promise<number>,
): SessionConnection {
  return Object.assign(new type(), {
    edges: page.sessions.map((session) => ({ cursor: encodeCursor(session), node: session })),
    pageInfo: new PageInfo(page),
    countAll,
  });
}
