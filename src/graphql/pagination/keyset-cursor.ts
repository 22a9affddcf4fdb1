import { createHash } from "node:crypto";
import type { KeysetPosition } from "../../services/keyset.js";

/** Which list a cursor pages: a short digest of what names the list, so a cursor only pages the list it came from. */
export type CursorScope = string & { readonly cursorScope: unique symbol };

const SCOPE_LENGTH = 11;
const CURSOR = /^(\d{1,15}):([0-9A-Za-z-]{1,64}):([0-9A-Za-z_-]{11})$/;

/**
 * The scope of one list from its kind and everything that picks its rows (project, parent id, filters). A
 * digest, so the cursor stays short and shows none of them; the project is always among them, so two projects'
 * lists never share a scope.
 */
export function cursorScope(list: string, ...parts: ReadonlyArray<string | null>): CursorScope {
  const digest = createHash("sha256").update(JSON.stringify([list, ...parts])).digest("base64url");
  return digest.slice(0, SCOPE_LENGTH) as CursorScope;
}

/** Opaque to clients: base64url of the creation time in milliseconds, the id (the keyset position) and the list's scope. */
export function encodeCursor(row: KeysetPosition, scope: CursorScope): string {
  return Buffer.from(`${row.createdAt.getTime()}:${row.id}:${scope}`, "utf8").toString("base64url");
}

/**
 * The keyset position of a cursor this server made for the list of `scope`, or null, the same null whether the
 * text is no cursor at all or a cursor of another list (another project's included), so a refusal tells nothing.
 */
export function decodeCursor(cursor: string, scope: CursorScope): KeysetPosition | null {
  if (cursor.length > 128) return null;
  const match = CURSOR.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match || match[3] !== scope) return null;
  const createdAt = new Date(Number(match[1]));
  return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: match[2] };
}
