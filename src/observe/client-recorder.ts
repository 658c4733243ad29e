// Every response the load generator saw, folded as it arrives into HDR histograms: one for the
// whole run, one per window and one per second (the timeline). Nothing is kept per request.
// A second's histogram is summarised (p50/p90/p99) and recycled once a request starting more
// than the histogram's 60 s range after that second has been recorded: any request of that
// second still to come took longer than 60 s and reads 60 s anyway (it still counts). So at
// most ~62 per-second histograms (70 KB each) are alive at once, however long the run.
import type { Histogram } from "hdr-histogram-js";
import type { WindowSpan } from "../plan/types.js";
import type { ClientStats, TimelinePoint } from "../report/types.js";
import {
  createLatencyHistogram,
  encodeHistogram,
  LATENCY_HISTOGRAM,
  summarizeLatency,
  toRecordableUs,
} from "./client-histogram.js";

export type ClientStatus = number | "error" | "timeout";

export interface ClientSample {
  /** When the request was sent, microseconds from the start of load. */
  startUs: number;
  latencyUs: number;
  /** HTTP status, or the transport failure that replaced it. */
  status: ClientStatus;
}

/** A response counts as an error unless it is 2xx or 3xx; transport failures always do. */
export function isClientError(status: ClientStatus): boolean {
  return typeof status !== "number" || status < 200 || status >= 400;
}

interface Bucket {
  requests: number;
  errors: number;
  histogram: Histogram;
}

interface Second {
  requests: number;
  errors: number;
  /** Open: still collecting. Null once summarised. */
  histogram: Histogram | null;
  summary: TimelinePoint["latencyUs"] | null;
}

const SECOND_US = 1_000_000;
const RANGE_US = LATENCY_HISTOGRAM.highestTrackableValue;

interface WindowBucket extends Bucket {
  name: string;
  startUs: number;
  endUs: number;
}

export class ClientRecorder {
  readonly #total: Bucket = { requests: 0, errors: 0, histogram: createLatencyHistogram() };
  readonly #statusCounts = new Map<string, number>();
  /** Indexed by second since the start of load; holes are seconds nothing started in. */
  readonly #seconds: (Second | undefined)[] = [];
  readonly #openSeconds = new Set<number>();
  /** Histograms of summarised seconds, reset for reuse. */
  readonly #pool: Histogram[] = [];
  /** Latest start time recorded, and the last second summarised because of it. */
  #latestStartUs = 0;
  #closedThrough = -1;
  readonly #windows: WindowBucket[];
  /** The timeline runs at least to the end of the last window, even through silent seconds. */
  readonly #minSeconds: number;

  constructor(windows: readonly WindowSpan[]) {
    // A request belongs to a window by its start time, half-open: [start, end).
    this.#windows = windows.map((w) => ({
      name: w.name,
      startUs: w.start * 1000,
      endUs: w.end * 1000,
      requests: 0,
      errors: 0,
      histogram: createLatencyHistogram(),
    }));
    this.#minSeconds = Math.ceil(Math.max(0, ...windows.map((w) => w.end)) / 1000);
  }

  record(sample: ClientSample): void {
    const latency = toRecordableUs(sample.latencyUs);
    const error = isClientError(sample.status);
    add(this.#total, latency, error);

    const key = String(sample.status);
    this.#statusCounts.set(key, (this.#statusCounts.get(key) ?? 0) + 1);

    const startUs = Number.isFinite(sample.startUs) ? Math.max(0, sample.startUs) : 0;
    this.#recordSecond(startUs, latency, error);
    for (const w of this.#windows) {
      if (startUs >= w.startUs && startUs < w.endUs) add(w, latency, error);
    }
  }

  stats(): ClientStats {
    const timeline: TimelinePoint[] = [];
    const seconds = Math.max(this.#minSeconds, this.#seconds.length);
    for (let t = 0; t < seconds; t++) {
      const second = this.#seconds[t];
      const latencyUs =
        second?.summary ?? (second?.histogram ? timelineLatency(second.histogram) : { p50: 0, p90: 0, p99: 0 });
      timeline.push({ t, requests: second?.requests ?? 0, errors: second?.errors ?? 0, latencyUs });
    }

    const windows: ClientStats["windows"] = {};
    for (const w of this.#windows) {
      windows[w.name] = {
        requests: w.requests,
        errors: w.errors,
        latencyUs: summarizeLatency(w.histogram),
        histogram: encodeHistogram(w.histogram),
      };
    }

    return {
      requests: this.#total.requests,
      errors: this.#total.errors,
      statusCounts: Object.fromEntries([...this.#statusCounts].sort(([a], [b]) => compareStatusKeys(a, b))),
      latencyUs: summarizeLatency(this.#total.histogram),
      timeline,
      windows,
    };
  }

  #recordSecond(startUs: number, latencyUs: number, error: boolean): void {
    const t = Math.floor(startUs / SECOND_US);
    let second = this.#seconds[t];
    if (second === undefined) {
      second = { requests: 0, errors: 0, histogram: null, summary: null };
      this.#seconds[t] = second;
    }
    second.requests++;
    if (error) second.errors++;
    if (second.summary === null) {
      if (second.histogram === null) {
        second.histogram = this.#pool.pop() ?? createLatencyHistogram();
        this.#openSeconds.add(t);
      }
      second.histogram.recordValue(latencyUs);
    } // else: started over 60 s before the latest request; its latency is past the histogram's range

    if (startUs > this.#latestStartUs) {
      this.#latestStartUs = startUs;
      const closeThrough = Math.floor((startUs - RANGE_US) / SECOND_US) - 1;
      if (closeThrough > this.#closedThrough) {
        this.#closedThrough = closeThrough;
        for (const open of this.#openSeconds) if (open <= closeThrough) this.#summarise(open);
      }
    }
  }

  #summarise(t: number): void {
    const second = this.#seconds[t];
    if (second?.histogram == null) return;
    second.summary = timelineLatency(second.histogram);
    second.histogram.reset();
    this.#pool.push(second.histogram);
    second.histogram = null;
    this.#openSeconds.delete(t);
  }
}

function timelineLatency(histogram: Histogram): TimelinePoint["latencyUs"] {
  const { p50, p90, p99 } = summarizeLatency(histogram);
  return { p50, p90, p99 };
}

function add(bucket: Bucket, latencyUs: number, error: boolean): void {
  bucket.requests++;
  if (error) bucket.errors++;
  bucket.histogram.recordValue(latencyUs);
}

/** Numeric statuses first in numeric order, then "error", "timeout". */
function compareStatusKeys(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isNaN(na) !== Number.isNaN(nb)) return Number.isNaN(na) ? 1 : -1;
  return Number.isNaN(na) ? a.localeCompare(b) : na - nb;
}
