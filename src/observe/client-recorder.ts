// Every response the load generator saw, folded as it arrives into HDR histograms: one for the
// whole run, one per window and one per second (the timeline). Nothing is kept per request.
// A second's histogram is summarised (p50/p90/p99) and recycled once a request starting more
// than the histogram's 60 s range after that second has been recorded: any request of that
// second still to come took longer than 60 s and reads 60 s anyway (it still counts). So at
// most ~62 per-second histograms (70 KB each) are alive at once, however long the run.
//
// For the resilience properties it also keeps, bounded:
// - a fine series, one slot per 100 ms: requests, failures, and for each latency threshold the
//   scenario judges (SLOs, timeout bounds) how many requests were below it — exact counts, so an
//   SLO can be judged over any sliding window (8 bytes per slot and threshold: ~0.3 MB an hour
//   for two thresholds);
// - the ids of failed requests (for attribution), up to `maxFailedIds`; later ones only counted;
// - per request path of the load's mix (isolation by path), a window bucket each, only for the
//   paths it is told about (at most MAX_PATHS).
import { grpcStatusCode, type GrpcStatusName } from "../model/grpc-status.js";
import type { Histogram } from "hdr-histogram-js";
import type { WindowSpan } from "../plan/types.js";
import type { ClientStats, TimelinePoint } from "../model/run-report.js";
import {
  createLatencyHistogram,
  encodeHistogram,
  LATENCY_HISTOGRAM,
  summarizeLatency,
  toRecordableUs,
} from "./client-histogram.js";

/**
 * An HTTP status, a gRPC request's status name (a gRPC load), the transport failure that replaced
 * it, or a request the open load could not send (its in-flight cap was reached).
 */
export type ClientStatus = number | GrpcStatusName | "error" | "timeout" | "notSent";

export interface ClientSample {
  /**
   * When the request was due (open load) or sent (closed load), microseconds from the start of
   * load: latency counts from here, so an open load's latency includes any wait to be sent.
   */
  startUs: number;
  /** Open load: when it was actually sent (absent when it was not sent). The generator's lag is sentUs − startUs. */
  sentUs?: number;
  /** From startUs to the complete answer, failure or timeout. Meaningless for `notSent`. */
  latencyUs: number;
  /** HTTP status, or the transport failure that replaced it. */
  status: ClientStatus;
  /** The x-request-id the load driver sent, when it tagged the request. */
  id?: string;
  /** The request-target as sent, e.g. "/cart?x=1". */
  path?: string;
}

export interface RecorderOptions {
  /** Latency thresholds (µs) the fine series counts requests against (SLO checks, timeout bounds). */
  latencyThresholdsUs?: readonly number[];
  /** Failed requests whose ids are kept for attribution; later failures are only counted. Default 20 000. */
  maxFailedIds?: number;
  /** Request paths with their own window statistics (the load's mix); at most MAX_PATHS are kept. */
  paths?: readonly string[];
}

/** A failed client request, kept for attribution. Times in ms from the start of load. */
export interface FailedRequest {
  id: string | null;
  startMs: number;
  latencyUs: number;
  status: ClientStatus;
  path: string | null;
}

/** The fine series: one slot of `slotMs` per index, by request start time. */
export interface ClientSeries {
  slotMs: number;
  requests: number[];
  errors: number[];
  /** Per threshold: per slot, the requests faster than it (lt) and those not slower (le). */
  latency: { thresholdUs: number; lt: number[]; le: number[] }[];
}

export const FINE_SLOT_MS = 100;
export const DEFAULT_MAX_FAILED_IDS = 20_000;
export const MAX_PATHS = 16;

/** A response counts as an error unless it is 2xx or 3xx, or a gRPC OK; transport failures always do. */
export function isClientError(status: ClientStatus): boolean {
  if (typeof status === "number") return status < 200 || status >= 400;
  return status !== "OK";
}

interface Bucket {
  requests: number;
  errors: number;
  notSent: number;
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
  readonly #total: Bucket = { requests: 0, errors: 0, notSent: 0, histogram: createLatencyHistogram() };
  readonly #fine: { requests: SlotCounts; errors: SlotCounts; latency: { thresholdUs: number; lt: SlotCounts; le: SlotCounts }[] };
  readonly #failed: FailedRequest[] = [];
  #failedDropped = 0;
  readonly #maxFailed: number;
  readonly #paths = new Map<string, { requests: number; errors: number; windows: WindowBucket[] }>();
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

  constructor(windows: readonly WindowSpan[], options: RecorderOptions = {}) {
    // A request belongs to a window by its start time, half-open: [start, end).
    const buckets = () =>
      windows.map((w) => ({
        name: w.name,
        startUs: w.start * 1000,
        endUs: w.end * 1000,
        requests: 0,
        errors: 0,
        notSent: 0,
        histogram: createLatencyHistogram(),
      }));
    this.#windows = buckets();
    this.#minSeconds = Math.ceil(Math.max(0, ...windows.map((w) => w.end)) / 1000);
    const thresholds = [...new Set((options.latencyThresholdsUs ?? []).map(toRecordableUs))].sort((a, b) => a - b);
    this.#fine = {
      requests: new SlotCounts(),
      errors: new SlotCounts(),
      latency: thresholds.map((thresholdUs) => ({ thresholdUs, lt: new SlotCounts(), le: new SlotCounts() })),
    };
    this.#maxFailed = Math.max(0, options.maxFailedIds ?? DEFAULT_MAX_FAILED_IDS);
    for (const path of [...new Set(options.paths ?? [])].slice(0, MAX_PATHS)) {
      this.#paths.set(path, { requests: 0, errors: 0, windows: buckets() });
    }
  }

  record(sample: ClientSample): void {
    // A request that was never sent has no latency: it counts as a failure, and as slower than
    // any latency threshold (null here), but stays out of the histograms.
    const latency = sample.status === "notSent" ? null : toRecordableUs(sample.latencyUs);
    const error = isClientError(sample.status);
    add(this.#total, latency, error);

    const key = String(sample.status);
    this.#statusCounts.set(key, (this.#statusCounts.get(key) ?? 0) + 1);

    const startUs = Number.isFinite(sample.startUs) ? Math.max(0, sample.startUs) : 0;
    this.#recordSecond(startUs, latency, error);
    for (const w of this.#windows) {
      if (startUs >= w.startUs && startUs < w.endUs) add(w, latency, error);
    }

    const slot = Math.floor(startUs / (FINE_SLOT_MS * 1000));
    this.#fine.requests.add(slot);
    if (error) this.#fine.errors.add(slot);
    if (latency !== null) {
      for (const t of this.#fine.latency) {
        if (latency < t.thresholdUs) t.lt.add(slot);
        if (latency <= t.thresholdUs) t.le.add(slot);
      }
    }
    if (error) {
      if (this.#failed.length < this.#maxFailed) {
        this.#failed.push({ id: sample.id ?? null, startMs: startUs / 1000, latencyUs: latency ?? 0, status: sample.status, path: sample.path ?? null });
      } else {
        this.#failedDropped++;
      }
    }
    const path = sample.path === undefined ? undefined : this.#paths.get(sample.path);
    if (path) {
      path.requests++;
      if (error) path.errors++;
      for (const w of path.windows) {
        if (startUs >= w.startUs && startUs < w.endUs) add(w, latency, error);
      }
    }
  }

  /** The fine series (FINE_SLOT_MS slots) up to the last slot anything started in, or `untilMs`. */
  series(untilMs = 0): ClientSeries {
    const slots = Math.max(this.#fine.requests.length, Math.ceil(untilMs / FINE_SLOT_MS));
    return {
      slotMs: FINE_SLOT_MS,
      requests: this.#fine.requests.toArray(slots),
      errors: this.#fine.errors.toArray(slots),
      latency: this.#fine.latency.map((t) => ({ thresholdUs: t.thresholdUs, lt: t.lt.toArray(slots), le: t.le.toArray(slots) })),
    };
  }

  /** Failed requests in the order they settled, up to the limit, and how many more there were. */
  failed(): { requests: FailedRequest[]; dropped: number } {
    return { requests: [...this.#failed], dropped: this.#failedDropped };
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

    const windows = encodeWindows(this.#windows);

    const stats: ClientStats = {
      requests: this.#total.requests,
      errors: this.#total.errors,
      statusCounts: Object.fromEntries([...this.#statusCounts].sort(([a], [b]) => compareStatusKeys(a, b))),
      latencyUs: summarizeLatency(this.#total.histogram),
      timeline,
      windows,
    };
    if (this.#paths.size > 0) {
      stats.paths = Object.fromEntries(
        [...this.#paths].map(([path, p]) => [path, { requests: p.requests, errors: p.errors, windows: encodeWindows(p.windows) }]),
      );
    }
    return stats;
  }

  #recordSecond(startUs: number, latencyUs: number | null, error: boolean): void {
    const t = Math.floor(startUs / SECOND_US);
    let second = this.#seconds[t];
    if (second === undefined) {
      second = { requests: 0, errors: 0, histogram: null, summary: null };
      this.#seconds[t] = second;
    }
    second.requests++;
    if (error) second.errors++;
    if (second.summary === null && latencyUs !== null) {
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

function encodeWindows(buckets: readonly WindowBucket[]): ClientStats["windows"] {
  const windows: ClientStats["windows"] = {};
  for (const w of buckets) {
    windows[w.name] = {
      requests: w.requests,
      errors: w.errors,
      ...(w.notSent > 0 ? { notSent: w.notSent } : {}),
      latencyUs: summarizeLatency(w.histogram),
      histogram: encodeHistogram(w.histogram),
    };
  }
  return windows;
}

/** Counts per slot, growing by doubling. */
class SlotCounts {
  #counts = new Uint32Array(64);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  add(slot: number): void {
    if (slot < 0) return;
    if (slot >= this.#counts.length) {
      const grown = new Uint32Array(Math.max(slot + 1, this.#counts.length * 2));
      grown.set(this.#counts);
      this.#counts = grown;
    }
    this.#counts[slot]!++;
    if (slot >= this.#length) this.#length = slot + 1;
  }

  toArray(length: number): number[] {
    return Array.from({ length }, (_, i) => (i < this.#counts.length ? this.#counts[i]! : 0));
  }
}

function timelineLatency(histogram: Histogram): TimelinePoint["latencyUs"] {
  const { p50, p90, p99 } = summarizeLatency(histogram);
  return { p50, p90, p99 };
}

function add(bucket: Bucket, latencyUs: number | null, error: boolean): void {
  bucket.requests++;
  if (error) bucket.errors++;
  if (latencyUs === null) bucket.notSent++;
  else bucket.histogram.recordValue(latencyUs);
}

/** Numeric statuses first in numeric order, then gRPC statuses by code, then "error", "timeout". */
function compareStatusKeys(a: string, b: string): number {
  const rank = (key: string): number => {
    if (!Number.isNaN(Number(key))) return Number(key);
    const code = grpcStatusCode(key);
    return code === null ? Number.POSITIVE_INFINITY : 1000 + code;
  };
  const ra = rank(a);
  const rb = rank(b);
  return ra === rb ? a.localeCompare(b) : ra - rb;
}
