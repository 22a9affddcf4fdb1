import type { KeysetPosition, KeysetRequest, KeysetResult } from "../../services/keyset.js";
import { badArgument } from "../errors.js";
import { type CursorScope, decodeCursor } from "./keyset-cursor.js";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 100;

/** Relay's paging arguments as the client sent them; `null` counts as absent. */
export interface PagingArguments {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Which list a page is of, where it starts and which way it walks: `older` for first/after, `newer` for last/before. */
export interface PagePlan {
  direction: "older" | "newer";
  count: number;
  cursor: KeysetPosition | null;
  scope: CursorScope;
}

/** Reads one keyset page of a list (sessions of a filter, invocations of a webhook) from the service layer. */
export type KeysetFetch<T> = (request: KeysetRequest) => Promise<KeysetResult<T>>;

/** What a connection shows; the flags that may cost a statement are computed only when selected. */
export interface KeysetPage<T extends KeysetPosition> {
  items: T[];
  /** The list the page belongs to, which its cursors carry. */
  scope: CursorScope;
  hasNextPage: () => Promise<boolean>;
  hasPreviousPage: () => Promise<boolean>;
}

function pageSize(name: "first" | "last", value: number | null | undefined): number {
  if (value === null || value === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(value) || value < 0 || value > MAX_PAGE_SIZE) {
    throw badArgument(name, `expected integer between 0 and ${MAX_PAGE_SIZE}`, value);
  }
  return value;
}

function cursorOf(name: "after" | "before", value: string | null | undefined, scope: CursorScope): KeysetPosition | null {
  if (value === null || value === undefined) return null;
  const cursor = decodeCursor(value, scope);
  if (!cursor) throw badArgument(name, "expected a cursor from this connection", value);
  return cursor;
}

/**
 * Checks the paging arguments of the list of `scope`; mixing first/after with last/before is refused rather than
 * guessed at, and so is a cursor of another list.
 */
export function planPage(args: PagingArguments, scope: CursorScope): PagePlan {
  const present = (value: unknown) => value !== null && value !== undefined;
  const backward = present(args.last) || present(args.before);
  if (backward && (present(args.first) || present(args.after))) {
    const location = present(args.last) ? "last" : "before";
    throw badArgument(location, "cannot be combined with first or after", present(args.last) ? args.last : args.before);
  }
  if (backward) return { direction: "newer", count: pageSize("last", args.last), cursor: cursorOf("before", args.before, scope), scope };
  return { direction: "older", count: pageSize("first", args.first), cursor: cursorOf("after", args.after, scope), scope };
}

function memoize<T>(compute: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | null = null;
  return () => (result ??= compute());
}

/**
 * One keyset page, newest first. The cursor row itself is asked for too: when it still matches, it proves
 * there is something behind the page at no extra cost; only when it has gone is one more statement needed,
 * and only if the client selects that flag.
 */
export async function loadKeysetPage<T extends KeysetPosition>(fetchPage: KeysetFetch<T>, plan: PagePlan): Promise<KeysetPage<T>> {
  const { direction, count, cursor, scope } = plan;
  const result = await fetchPage({
    direction,
    from: cursor,
    count: cursor ? count + 1 : count,
    includeFrom: cursor !== null,
  });
  // Newest first: the cursor row, if returned, is the first row walking older and the last walking newer.
  const rows = result.items;
  const cursorIndex = cursor === null ? -1 : direction === "older" ? 0 : rows.length - 1;
  const sawCursor = cursorIndex >= 0 && rows[cursorIndex]?.id === cursor?.id;
  const rest = sawCursor ? rows.filter((_, index) => index !== cursorIndex) : rows;
  const page = direction === "older" ? rest.slice(0, count) : rest.slice(Math.max(rest.length - count, 0));
  const hasMore = result.hasMore || rest.length > count;
  const behindCursor = memoize(async () => {
    if (cursor === null) return false;
    if (sawCursor) return true;
    const opposite = direction === "older" ? "newer" : "older";
    return (await fetchPage({ direction: opposite, from: cursor, count: 0 })).hasMore;
  });
  const ahead = async () => hasMore;
  return {
    items: page,
    scope,
    hasNextPage: direction === "older" ? ahead : behindCursor,
    hasPreviousPage: direction === "older" ? behindCursor : ahead,
  };
}
