// What a run shows while its load plays: once a second, how far it is, the rate and error share of
// the requests that settled in the last second, their p99, and the faults on. Pure: fed the
// client's samples as they settle, asked for a snapshot by whoever keeps time.
import type { Histogram } from "hdr-histogram-js";
import { createLatencyHistogram, toRecordableUs } from "./client-histogram.js";
import { isClientError, type ClientSample } from "./client-recorder.js";

export interface ProgressSnapshot {
  elapsedMs: number;
  totalMs: number;
  /** Requests that settled since the last snapshot, per second. */
  rate: number;
  /** Their error share, 0..1; null when none settled. */
  errorShare: number | null;
  /** Their p99 latency (µs); null when none was answered. */
  p99Us: number | null;
  /** Every request settled so far, and how many failed. */
  requests: number;
  errors: number;
  /** Faults on now, by name. */
  faults: string[];
}

export class ProgressMeter {
  readonly #histogram: Histogram = createLatencyHistogram();
  #requests = 0;
  #errors = 0;
  #since = { requests: 0, errors: 0 };
  #lastMs: number;

  constructor(
    private readonly totalMs: number,
    private readonly startMs: number,
  ) {
    this.#lastMs = startMs;
  }

  record(sample: ClientSample): void {
    this.#requests++;
    if (isClientError(sample.status)) this.#errors++;
    if (sample.status !== "notSent") this.#histogram.recordValue(toRecordableUs(sample.latencyUs));
  }

  /** The second (or so) since the last snapshot, and the run so far; starts the next interval. */
  snapshot(nowMs: number, faults: string[]): ProgressSnapshot {
    const settled = this.#requests - this.#since.requests;
    const failed = this.#errors - this.#since.errors;
    const seconds = Math.max(0.001, (nowMs - this.#lastMs) / 1000);
    const p99 = this.#histogram.totalCount > 0 ? this.#histogram.getValueAtPercentile(99) : null;
    this.#histogram.reset();
    this.#since = { requests: this.#requests, errors: this.#errors };
    this.#lastMs = nowMs;
    return {
      elapsedMs: Math.min(this.totalMs, Math.max(0, nowMs - this.startMs)),
      totalMs: this.totalMs,
      rate: settled / seconds,
      errorShare: settled === 0 ? null : failed / settled,
      p99Us: p99,
      requests: this.#requests,
      errors: this.#errors,
      faults,
    };
  }
}
