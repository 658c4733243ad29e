// Requests in flight at once, from access-log spans (start, duration), at the log's resolution.

/**
 * The access log's resolution: start and duration are each whole milliseconds, so a request that
 * starts within this long of its predecessor's end cannot be told from one that overlaps it.
 */
export const LOG_RESOLUTION_MS = 2;

export interface Span {
  /** Start, any unit of ms (epoch or from the start of load). */
  ts: number;
  durationMs: number;
}

/**
 * The most requests in flight at once. Overlaps shorter than the log's resolution are
 * back-to-back requests on a freed slot, not concurrency; a real extra request overlaps by
 * most of a service time.
 */
export function peakInFlight(spans: Iterable<Span>): { peak: number; at: number | null } {
  const edges: { t: number; d: number }[] = [];
  for (const s of spans) edges.push({ t: s.ts, d: 1 }, { t: s.ts + Math.max(0, s.durationMs - LOG_RESOLUTION_MS), d: -1 });
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let peak = 0;
  let at: number | null = null;
  for (const e of edges) {
    now += e.d;
    if (now > peak) {
      peak = now;
      at = e.t;
    }
  }
  return { peak, at };
}

/** The first and the last moment at which at least `level` spans were in flight at once (same resolution rule), or null. */
export function timesAtLevel(spans: Iterable<Span>, level: number): { first: number; last: number } | null {
  const edges: { t: number; d: number }[] = [];
  for (const s of spans) edges.push({ t: s.ts, d: 1 }, { t: s.ts + Math.max(0, s.durationMs - LOG_RESOLUTION_MS), d: -1 });
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let first: number | null = null;
  let last: number | null = null;
  for (let i = 0; i < edges.length; i++) {
    const e = edges[i]!;
    now += e.d;
    if (now >= level) {
      first ??= e.t;
      // At the level until the next edge.
      last = edges[i + 1]?.t ?? e.t;
    }
  }
  return first === null || last === null ? null : { first, last };
}
