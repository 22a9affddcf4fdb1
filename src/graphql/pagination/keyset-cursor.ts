import type { KeysetPosition } from "../../services/keyset.js";

const CURSOR = /^(\d{1,15}):([0-9A-Za-z-]{1,64})$/;

/** Opaque to clients: base64url of the creation time in milliseconds and the id, the keyset position. */
export function encodeCursor(row: KeysetPosition): string {
  return Buffer.from(`${row.createdAt.getTime()}:${row.id}`, "utf8").toString("base64url");
}

/** The keyset position of a cursor, or null when the text is not a cursor this server made. */
export function decodeCursor(cursor: string): KeysetPosition | null {
  if (cursor.length > 128) return null;
  const match = CURSOR.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match) return null;
  const createdAt = new Date(Number(match[1]));
  return Number.isNaN(createdAt.getTime()) ? null : { createdAt, id: match[2] };
}
