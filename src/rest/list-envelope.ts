import type { ParameterSpec, ParameterValues } from "./rest-operation.js";

/** Larger `limit`s are capped to this, as the hosted API does; so the served schema has no maximum. */
export const MAX_LIST_LIMIT = 100;

export const LIST_PARAMETERS: readonly ParameterSpec[] = [
  {
    name: "offset",
    in: "query",
    description: "How many items to skip.",
    schema: { type: "integer", minimum: 0, default: 0 },
  },
  {
    name: "limit",
    in: "query",
    description: `How many items to return; values above ${MAX_LIST_LIMIT} are capped to ${MAX_LIST_LIMIT}.`,
    schema: { type: "integer", minimum: 1, default: MAX_LIST_LIMIT },
  },
];

export interface ListPage {
  offset: number;
  limit: number;
}

/** The page a validated request asks for, with the limit capped. */
export function listPageOf(parameters: ParameterValues): ListPage {
  return {
    offset: Number(parameters.offset),
    limit: Math.min(Number(parameters.limit), MAX_LIST_LIMIT),
  };
}

/** `{has_more, items, limit, offset, total}`; `has_more` is true exactly when offset + len(items) < total. */
export function listEnvelope<T>(items: T[], total: number, page: ListPage): Record<string, unknown> {
  return {
    has_more: page.offset + items.length < total,
    items,
    limit: page.limit,
    offset: page.offset,
    total,
  };
}
