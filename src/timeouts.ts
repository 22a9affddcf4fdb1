/**
 * The promise's outcome, or `late` if `ms` pass first; the timer never outlives the race. A rejection that comes
 * in time rejects; the promise itself is neither cancelled nor awaited further.
 */
export async function settleWithin<T, L>(promise: T | PromiseLike<T>, ms: number, late: L): Promise<Awaited<T> | L> {
  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)));
  try {
    return await Promise.race([promise, overdue]);
  } finally {
    clearTimeout(timer);
  }
}
