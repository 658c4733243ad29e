// The range client latencies are recorded in, and the clamp into it: pure, so a module that
// only needs the clamp (the properties' sliding windows) does not load the histogram library.

/** 1 µs .. 60 s at 3 significant digits: ±0.1% on every recorded value. */
export const LATENCY_HISTOGRAM = {
  lowestDiscernibleValue: 1,
  highestTrackableValue: 60_000_000,
  numberOfSignificantValueDigits: 3,
} as const;

/** Clamps to the trackable range and rounds to whole microseconds. */
export function toRecordableUs(latencyUs: number): number {
  if (!Number.isFinite(latencyUs) || latencyUs < 0) return 0;
  return Math.min(Math.round(latencyUs), LATENCY_HISTOGRAM.highestTrackableValue);
}
