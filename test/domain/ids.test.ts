import { describe, expect, it } from "vitest";
import { CONNECTION_IDENTIFIER_PATTERN, newConnectionIdentifier, newId } from "../../src/domain/ids.js";

describe("identifiers", () => {
  it("makes connection identifiers of lowercase base32 that start with a letter", () => {
    for (let index = 0; index < 2000; index++) {
      expect(newConnectionIdentifier()).toMatch(CONNECTION_IDENTIFIER_PATTERN);
    }
  });

  it("carries at least 120 random bits in a connection identifier", () => {
    // 26 choices for the first letter, then 25 characters of 32 choices.
    expect(Math.log2(26) + 25 * 5).toBeGreaterThanOrEqual(120);
    const seen = new Set(Array.from({ length: 5000 }, () => newConnectionIdentifier()));
    expect(seen.size).toBe(5000);
  });

  it("makes ids that sort by creation time", () => {
    const earlier = newId(new Date("2026-01-01T00:00:00.001Z"));
    const later = newId(new Date("2026-01-01T00:00:00.002Z"));
    expect(earlier < later).toBe(true);
    expect(earlier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("orders ids of one millisecond in the order they were made", () => {
    const at = new Date("2026-01-01T00:00:00.003Z");
    const ids = Array.from({ length: 1_000 }, () => newId(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id.startsWith("019b76da-a803-7")).toBe(true);
    // An id of another millisecond in between starts that millisecond afresh, and still sorts by its time.
    const later = newId(new Date("2026-01-01T00:00:00.004Z"));
    expect(newId(at) < later).toBe(true);
  });

  it("gives every id fresh random bits, also after its pool of random bytes is drawn anew", () => {
    // 16 bytes an id: 1,000 ids draw the 4 KiB pool about four times over.
    const ids = Array.from({ length: 1_000 }, (_, index) => newId(new Date(Date.UTC(2026, 0, 1) + index)));
    const tails = ids.map((id) => id.slice(-12));
    const counterStarts = ids.map((id) => id.slice(15, 18));
    expect(new Set(tails).size).toBe(ids.length);
    expect(new Set(counterStarts).size).toBeGreaterThan(100);
  });
});
