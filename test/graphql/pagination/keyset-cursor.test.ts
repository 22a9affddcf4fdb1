import { describe, expect, it } from "vitest";
import { cursorScope, decodeCursor, encodeCursor } from "../../../src/graphql/pagination/keyset-cursor.js";

describe("keyset cursors", () => {
  const session = { id: "01a22426-b1a0-729d-acd4-e90b0c5672f4", createdAt: new Date("2026-11-28T21:54:05.344Z") };
  const project = "01a22426-0000-7000-8000-000000000001";
  const pending = cursorScope("sessions", project, "verify", "pending", null);

  it("round-trips the creation time to the millisecond and the id within its own list", () => {
    expect(decodeCursor(encodeCursor(session, pending), pending)).toEqual(session);
  });

  it("is opaque base64url text that shows neither the project nor the filter", () => {
    const cursor = encodeCursor(session, cursorScope("sessions", project, "verify", null, "customer-7"));
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor.length).toBeLessThanOrEqual(128);
    const text = Buffer.from(cursor, "base64url").toString("utf8");
    expect(text).not.toContain(project);
    expect(text).not.toContain("customer-7");
  });

  it.each([
    ["another project", cursorScope("sessions", "01a22426-0000-7000-8000-000000000002", "verify", "pending", null)],
    ["the other kind", cursorScope("sessions", project, "collect", "pending", null)],
    ["another status filter", cursorScope("sessions", project, "verify", "failed", null)],
    ["no status filter", cursorScope("sessions", project, "verify", null, null)],
    ["an external id filter as well", cursorScope("sessions", project, "verify", "pending", "customer-7")],
    ["a webhook's invocations", cursorScope("webhook-invocations", project, "pending")],
  ])("is refused on %s", (_, other) => {
    expect(other).not.toBe(pending);
    expect(decodeCursor(encodeCursor(session, pending), other)).toBeNull();
  });

  it("tells an empty filter from none and parts apart from their joins", () => {
    expect(cursorScope("sessions", project, "verify", null, "")).not.toBe(cursorScope("sessions", project, "verify", null, null));
    expect(cursorScope("a", "b:c")).not.toBe(cursorScope("a", "b", "c"));
  });

  it.each([
    ["empty text", ""],
    ["not base64 of a cursor", Buffer.from("hello").toString("base64url")],
    ["a time that is not a number", Buffer.from(`soon:abc:${pending}`).toString("base64url")],
    ["an id with a quote", Buffer.from(`1795902845344:abc'--:${pending}`).toString("base64url")],
    ["a cursor without a list (as made before cursors named their list)", Buffer.from(`1795902845344:${session.id}`).toString("base64url")],
    ["a scope that was altered", Buffer.from(`1795902845344:${session.id}:${"A".repeat(11)}`).toString("base64url")],
    ["overlong text", "A".repeat(200)],
  ])("rejects %s", (_, text) => {
    expect(decodeCursor(text, pending)).toBeNull();
  });
});
