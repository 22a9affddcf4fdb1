import { type ClassType, Field, Int, ObjectType } from "type-graphql";
import type { KeysetPosition } from "../../services/keyset.js";
import { encodeCursor } from "../pagination/keyset-cursor.js";
import type { KeysetPage } from "../pagination/keyset-page.js";

/** Relay's PageInfo. The flags are methods: one of them may need a statement, run only when selected. */
@ObjectType()
export class PageInfo {
  constructor(private readonly page: KeysetPage<KeysetPosition>) {}

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
    const first = this.page.items[0];
    return first ? encodeCursor(first, this.page.scope) : null;
  }

  @Field(() => String, { nullable: true })
  endCursor(): string | null {
    const last = this.page.items.at(-1);
    return last ? encodeCursor(last, this.page.scope) : null;
  }
}

/** A Relay connection over the service's plain views (sessions, invocations). */
export interface Connection<T extends KeysetPosition> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: PageInfo;
  totalCount(): Promise<number>;
}

export type ConnectionType<T extends KeysetPosition> = new () => Connection<T> & { countAll: () => Promise<number> };

/** `<Name>Connection` and `<Name>Edge` over one node type; `totalCount` counts only when selected. */
export function connectionType<T extends KeysetPosition>(name: string, nodeType: ClassType, totalCountDescription: string): ConnectionType<T> {
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class Edge {
    @Field()
    cursor: string;

    @Field(() => nodeType)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class NamedConnection implements Connection<T> {
    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    countAll: () => Promise<number>;

    @Field(() => Int, { description: totalCountDescription })
    totalCount(): Promise<number> {
      return this.countAll();
    }
  }
  return NamedConnection;
}

export function toConnection<T extends KeysetPosition>(
  type: ConnectionType<T>,
  page: KeysetPage<T>,
  countAll: () => Promise<number>,
): Connection<T> {
  return Object.assign(new type(), {
    edges: page.items.map((item) => ({ cursor: encodeCursor(item, page.scope), node: item })),
    pageInfo: new PageInfo(page),
    countAll,
  });
}
