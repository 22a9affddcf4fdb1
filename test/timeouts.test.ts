import { describe, expect, it } from "vitest";
import { settleWithin } from "../src/timeouts.js";

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("settleWithin", () => {
  it("answers the promise's value when it settles in time", async () => {
    await expect(settleWithin(after(5, "done"), 1_000, "late")).resolves.toBe("done");
  });

  it("answers the stand-in when the time runs out first", async () => {
    await expect(settleWithin(after(1_000, "done"), 20, "late")).resolves.toBe("late");
  });

  it("rejects with the promise's error when it fails in time", async () => {
    await expect(settleWithin(Promise.reject(new Error("refused")), 1_000, "late")).rejects.toThrow("refused");
  });

  it("takes a plain value as already settled", async () => {
    await expect(settleWithin(undefined, 1_000, "late")).resolves.toBeUndefined();
  });
});
