import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../src/graphql/pagination/keyset-cursor.js";

describe("keyset cursors", () => {
  const session = { id: "01a22426-b1a0-729d-acd4-e90b0c5672f4", createdAt: new Date("2026-11-28T21:54:05.344Z") };

  it("round-trips the creation time to the millisecond and the id", () => {
    expect(decodeCursor(encodeCursor(session))).toEqual(session);
  });

  it("is opaque base64url text", () => {
    expect(encodeCursor(session)).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it.each([
    ["empty text", ""],
    ["not base64 of a cursor", Buffer.from("hello").toString("base64url")],
    ["a time that is not a number", Buffer.from("soon:abc").toString("base64url")],
    ["an id with a quote", Buffer.from("1795902845344:abc'--").toString("base64url")],
    ["overlong text", "A".repeat(200)],
  ])("rejects %s", (_, text) => {
    expect(decodeCursor(text)).toBeNull();
  });
});
