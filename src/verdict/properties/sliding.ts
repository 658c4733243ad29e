// SLOs and success rates over sliding windows of the client's fine series (100 ms slots). A
// percentile SLO is judged exactly from counts: with k = ceil(N/100 × n), p(N) is the k-th
// smallest latency, so p(N) < T exactly when at least k requests took less than T (and
// p(N) <= T when at least k took at most T). The recorder counts both per slot for every
// threshold a check names.
import type { ClientSeries } from "../../observe/client-recorder.js";
import { toRecordableUs } from "../../observe/latency-range.js";
import type { SloExpression } from "../../scenario/types.js";
import { compare, minimumRequests } from "../slo-threshold.js";

/** Prefix sums over slots, so any window's count is one subtraction. */
export class Prefix {
  readonly #sums: Float64Array;

  constructor(values: readonly number[]) {
    this.#sums = new Float64Array(values.length + 1);
    for (let i = 0; i < values.length; i++) this.#sums[i + 1] = this.#sums[i]! + values[i]!;
  }

  /** Sum of slots [a, b), clamped to the series. */
  sum(a: number, b: number): number {
    const n = this.#sums.length - 1;
    const lo = Math.min(n, Math.max(0, a));
    const hi = Math.min(n, Math.max(lo, b));
    return this.#sums[hi]! - this.#sums[lo]!;
  }
}

export interface SloJudgement {
  holds: boolean;
  requests: number;
  /** error_rate: the rate; percentile: the share of requests under the threshold. */
  value: number;
  /** The share of good requests: without error, or under the latency threshold. */
  good: number;
}

export interface WindowJudge {
  /** Requests per slot, summed. */
  requests: Prefix;
  /** The SLOs over slots [a, b): every one holds, and the requests there. */
  judge(a: number, b: number): { holds: boolean; requests: number; results: SloJudgement[] };
  /** Fewest requests a window needs for every SLO to be resolvable (slo.ts minimumRequests). */
  minimumRequests: number;
}

export class MissingThresholdError extends Error {}

/** Judges SLO expressions over windows of the series. Throws MissingThresholdError when the recorder did not count a threshold. */
export function windowJudge(series: ClientSeries, slos: readonly SloExpression[]): WindowJudge {
  const requests = new Prefix(series.requests);
  const errors = new Prefix(series.errors);
  const judges = slos.map((slo) => {
    if (slo.metric.kind === "error_rate") {
      return (a: number, b: number): SloJudgement => {
        const n = requests.sum(a, b);
        const rate = n === 0 ? 0 : errors.sum(a, b) / n;
        return { holds: n > 0 && compare(rate, slo.op, slo.threshold), requests: n, value: rate, good: 1 - rate };
      };
    }
    const percentile = slo.metric.percentile;
    const t = series.latency.find((l) => l.thresholdUs === toRecordableUs(slo.threshold));
    if (!t) throw new MissingThresholdError(`the client series has no counts against ${slo.threshold} µs (needed by "${slo.source}")`);
    const lt = new Prefix(t.lt);
    const le = new Prefix(t.le);
    return (a: number, b: number): SloJudgement => {
      const n = requests.sum(a, b);
      if (n === 0) return { holds: false, requests: 0, value: 0, good: 0 };
      const k = Math.max(1, Math.ceil((percentile / 100) * n - 1e-9));
      const below = lt.sum(a, b);
      const atMost = le.sum(a, b);
      const holds = slo.op === "<" ? below >= k : slo.op === "<=" ? atMost >= k : slo.op === ">" ? atMost < k : below < k;
      const good = slo.op === "<" ? below : slo.op === "<=" ? atMost : slo.op === ">" ? n - atMost : n - below;
      return { holds, requests: n, value: below / n, good: good / n };
    };
  });
  return {
    requests,
    minimumRequests: Math.max(1, ...slos.map((s) => minimumRequests(s.metric, s.threshold))),
    judge(a, b) {
      const results = judges.map((j) => j(a, b));
      return { holds: results.every((r) => r.holds), requests: requests.sum(a, b), results };
    },
  };
}

export interface SettleResult {
  /** First slot from which every window holds; null when the last judged window still breaks. */
  settledSlot: number | null;
  /** Windows judged, and those that broke. */
  windows: number;
  breaking: number;
  /** Slots at the end with too few requests after them to fill a window: not judged. */
  tailSlots: number;
  /** The last window that broke, as slots [a, b). */
  lastBad: { a: number; b: number; requests: number } | null;
  /** The worst window: the lowest share of good requests. */
  worst: { a: number; b: number; requests: number; results: SloJudgement[] } | null;
}

/**
 * Slides a window over [firstSlot, endSlot) one slot at a time and finds the first slot from
 * which every window holds. Each window starts at its slot and runs until it holds the requests
 * the SLOs need to be resolved (`minimumRequests`): every judgement can tell the SLO apart, and
 * where the rate falls — connections stuck behind a stalled dependency — the windows simply grow,
 * so a few failing requests in a quiet stretch still break their window.
 */
export function settle(judge: WindowJudge, firstSlot: number, endSlot: number): SettleResult {
  const requests = judge.requests;
  let lastBad: SettleResult["lastBad"] = null;
  let worst: SettleResult["worst"] = null;
  let windows = 0;
  let breaking = 0;
  let b = firstSlot;
  let a = firstSlot;
  for (; a < endSlot; a++) {
    if (b <= a) b = a + 1;
    while (b < endSlot && requests.sum(a, b) < judge.minimumRequests) b++;
    if (requests.sum(a, b) < judge.minimumRequests) break;
    windows++;
    const r = judge.judge(a, b);
    if (!r.holds) {
      breaking++;
      lastBad = { a, b, requests: r.requests };
      if (worst === null || goodShare(r.results) < goodShare(worst.results)) worst = { a, b, ...r };
    }
  }
  const tailSlots = endSlot - a;
  let settledSlot: number | null = null;
  if (windows > 0) settledSlot = lastBad === null ? firstSlot : lastBad.a + 1 < firstSlot + windows ? lastBad.a + 1 : null;
  return { settledSlot, windows, breaking, tailSlots, lastBad, worst };
}

function goodShare(results: readonly SloJudgement[]): number {
  return Math.min(...results.map((r) => r.good));
}

/** Slots a window spans at the span's mean rate: its time resolution. */
export function windowSlots(meanPerSlot: number, minimumRequests: number): number {
  if (!(meanPerSlot > 0)) return Number.POSITIVE_INFINITY;
  return Math.max(1, Math.ceil(minimumRequests / meanPerSlot - 1e-9));
}

/** The slots fully inside [startMs, endMs). */
export function slotRange(startMs: number, endMs: number, slotMs: number, length: number): { first: number; end: number } {
  const first = Math.max(0, Math.ceil(startMs / slotMs - 1e-9));
  const end = Math.min(length, Math.floor(endMs / slotMs + 1e-9));
  return { first, end: Math.max(first, end) };
}
