/** A keyset position: creation time and id of the row a cursor points at. */
export interface KeysetPosition {
  createdAt: Date;
  id: string;
}

/** One page by keyset over rows listed newest first (creation time, ties by id). */
export interface KeysetRequest {
  /** `newer` walks towards the newest row (Relay's `last`/`before`); `older` is the default order. */
  direction: "older" | "newer";
  from: KeysetPosition | null;
  count: number;
  /** Also return the row at `from` itself when it still matches, so the caller learns what lies behind the page. */
  includeFrom?: boolean;
}

/** A page newest first whatever the direction, and whether more rows lie past it in that direction. */
export interface KeysetResult<T> {
  items: T[];
  hasMore: boolean;
}

/** The order rows are read in: the way the request walks. */
export function keysetOrder(request: KeysetRequest): "ASC" | "DESC" {
  return request.direction === "older" ? "DESC" : "ASC";
}

/** The condition (named parameters) that keeps the rows of `alias` past the request's position, or null from the start. */
export function keysetCondition(alias: string, request: KeysetRequest): { where: string; parameters: Record<string, unknown> } | null {
  if (!request.from) return null;
  const comparison = request.direction === "older" ? "<" : ">";
  const idComparison = request.includeFrom ? `${comparison}=` : comparison;
  return {
    where: `(${alias}.created_at ${comparison} :cursorTime OR (${alias}.created_at = :cursorTime AND ${alias}.id ${idComparison} :cursorId))`,
    parameters: { cursorTime: request.from.createdAt, cursorId: request.from.id },
  };
}

/** Rows read in walking order, `count + 1` at most, as the page (newest first) and whether more lie past it. */
export function keysetResult<T>(rows: T[], request: KeysetRequest): KeysetResult<T> {
  const items = rows.slice(0, request.count);
  if (request.direction === "newer") items.reverse();
  return { items, hasMore: rows.length > request.count };
}
