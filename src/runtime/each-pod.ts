import { setMaxListeners } from "node:events";

/**
 * Runs `task` for every item, at most `concurrency` at a time (default: all at once). The first
 * failure (or the caller's abort) stops the rest: each task gets a signal to check before its next
 * engine call, items not begun are never begun, and this settles only when every task has, so
 * nothing is still being created when the caller tears down. Throws the first real failure (not
 * the aborts it caused), or the caller's abort reason.
 */
export async function eachPod<T, R>(
  items: readonly T[],
  signal: AbortSignal | undefined,
  task: (item: T, index: number, stop: AbortSignal) => Promise<R>,
  concurrency = Infinity,
): Promise<R[]> {
  const stopper = new AbortController();
  const stop = signal ? AbortSignal.any([signal, stopper.signal]) : stopper.signal;
  // Every task's waits listen on it: more than Node's default of 10 is expected, not a leak.
  setMaxListeners(Math.max(10, items.length * 4), stop);
  let first: { error: unknown } | null = null;
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length && !stop.aborted) {
      const i = next++;
      try {
        results[i] = await task(items[i]!, i, stop);
      } catch (error) {
        if (!stop.aborted) {
          first ??= { error };
          stopper.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (signal?.aborted) throw signal.reason;
  if (first) throw (first as { error: unknown }).error;
  stop.throwIfAborted();
  return results;
}
