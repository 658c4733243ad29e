// The sidecars' log as the judge reads it: access-log entries and mesh events merged in the order
// they were logged, as re-iterable sequences read lazily — an array in unit tests, the run's
// on-disk store (src/record/mesh-log-store.ts) in a run. Analyses loop over them and keep only
// what they need, so the judge's memory does not follow the run's traffic. Pure.
import type { AccessLogEntry, MeshEvent } from "../dataplane/types.js";

export type MeshRow = AccessLogEntry | MeshEvent;

/** The sidecars' log as the judge reads it: entries, events, and both merged in arrival order. Each is re-iterable. */
export interface MeshRows {
  all: Iterable<MeshRow>;
  entries: Iterable<AccessLogEntry>;
  events: Iterable<MeshEvent>;
}

export const isEvent = (r: MeshRow): r is MeshEvent => "kind" in r;

/** Views over one merged, re-iterable sequence of rows (arrays in tests; the store in a run). */
export function meshRows(all: Iterable<MeshRow>): MeshRows {
  return {
    all,
    entries: view(all, (r): r is AccessLogEntry => !isEvent(r)),
    events: view(all, isEvent),
  };
}

/** The rows of `source` that `keep`, re-iterable, read lazily: nothing is copied. */
export function view<T, S extends T>(source: Iterable<T>, keep: (r: T) => r is S): Iterable<S>;
export function view<T>(source: Iterable<T>, keep: (r: T) => boolean): Iterable<T>;
export function view<T>(source: Iterable<T>, keep: (r: T) => boolean): Iterable<T> {
  return {
    *[Symbol.iterator]() {
      for (const r of source) if (keep(r)) yield r;
    },
  };
}

/** The rows of `source` that `keep`, as an array (only what is kept is held). */
export function select<T, S extends T>(source: Iterable<T>, keep: (r: T) => r is S): S[];
export function select<T>(source: Iterable<T>, keep: (r: T) => boolean): T[];
export function select<T>(source: Iterable<T>, keep: (r: T) => boolean): T[] {
  const out: T[] = [];
  for (const r of source) if (keep(r)) out.push(r);
  return out;
}

/** How many rows of `source` satisfy `keep`. */
export function countOf<T>(source: Iterable<T>, keep: (r: T) => boolean): number {
  let n = 0;
  for (const r of source) if (keep(r)) n++;
  return n;
}

/** Each row of `rows`, shown to `see` as it passes (one pass). */
export function* tap<T>(rows: Iterable<T>, see: (r: T) => void): Generator<T> {
  for (const r of rows) {
    see(r);
    yield r;
  }
}
