// When each request of an open-loop load is due, from the rate alone. Constant spacing puts
// request i at i / rate; Poisson arrivals draw exponential gaps with mean 1 / rate from the
// scenario's seed, so the same seed gives the same schedule. Pure: the generator asks for the
// next due time and never learns anything from the system under test.
import { mulberry32 } from "../util/seeded-random.js";
import type { Arrivals } from "../scenario/types.js";

export interface ArrivalSchedule {
  /** Due time of the next request, ms from the start of load (the schedule never ends: the caller decides when to stop). */
  peek(): number;
  /** Takes the request `peek()` returned. */
  take(): void;
  /** Requests taken so far. */
  readonly taken: number;
}

export interface ScheduleOptions {
  rate: number;
  arrivals: Arrivals;
  seed: number;
}

export function arrivalSchedule(opts: ScheduleOptions): ArrivalSchedule {
  if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`rate must be a positive number, got ${opts.rate}`);
  const interval = 1000 / opts.rate;
  const gap = opts.arrivals === "poisson" ? exponential(interval, mulberry32(opts.seed)) : null;
  let taken = 0;
  // Constant: i × interval (no accumulated rounding); Poisson: the running sum of the gaps,
  // the first one included (a Poisson process has no arrival at its start).
  let due = gap === null ? 0 : gap();
  const dueOf = (i: number): number => (gap === null ? i * interval : due);
  return {
    peek: () => dueOf(taken),
    take() {
      taken++;
      if (gap !== null) due += gap();
    },
    get taken() {
      return taken;
    },
  };
}

/** Exponential gaps with the given mean, by inversion; never 0 or Infinity. */
function exponential(meanMs: number, random: () => number): () => number {
  return () => -Math.log(1 - random() * 0.999_999_999) * meanMs;
}

/** Requests an open load schedules in [0, durationMs) at constant spacing. */
export function scheduledRequests(rate: number, durationMs: number): number {
  return Math.ceil((rate * durationMs) / 1000 - 1e-9);
}
