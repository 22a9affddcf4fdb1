/**
 * Rate limits count in one-minute windows aligned to the clock. A test that counts requests waits, when
 * the current window is about to end, for the next one, so its requests all land in one window.
 */
export async function outsideMinuteBoundary(marginMs = 10_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
