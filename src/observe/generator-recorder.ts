// The load generator checking itself. Per second and per window: requests intended (due by the
// schedule; for a closed load, what the rate asked for), sent (by when they really left),
// notSent (held back by the open load's in-flight cap), and the generator's own lag — the
// actual send time minus the due time. An open load whose lag p99 in a window is above the
// tolerance, or that sent under 99% of what it could send there, did not offer the load the
// scenario describes: checks over that window cannot be judged (src/verdict/generator.ts).
// A closed load falls behind its rate by design when the system slows; it is reported, not judged.
import type { Histogram } from "hdr-histogram-js";
import type { WindowSpan } from "../plan/types.js";
import type { GeneratorWindow, LagSummary, LoadSecond } from "../model/run-report.js";
import type { LoadModel } from "../scenario/types.js";
import type { ClientSample } from "./client-recorder.js";
import { createLatencyHistogram, toRecordableUs } from "./client-histogram.js";

/** Sent below this share of what could be sent (intended − notSent) in a window: the generator fell behind. */
export const MIN_SENT_SHARE = 0.99;

export interface GeneratorRecorderOptions {
  model: LoadModel;
  /** Requests per second the scenario asked for. */
  rate: number;
  windows: readonly WindowSpan[];
  /** Lag p99 above this in a window (µs): the generator did not keep its schedule there. */
  lagToleranceUs: number;
}

export interface GeneratorStats {
  intended: number;
  sent: number;
  notSent: number;
  lagUs: LagSummary | null;
  perSecond: LoadSecond[];
  windows: Record<string, GeneratorWindow>;
  /** Whether the open generator kept its schedule in every window; null for a closed load. */
  keptUp: boolean | null;
}

interface Tally {
  intended: number;
  sent: number;
  notSent: number;
}

interface WindowTally extends Tally {
  span: WindowSpan;
  lag: Histogram | null;
}

const SECOND_US = 1_000_000;

export class GeneratorRecorder {
  readonly #o: GeneratorRecorderOptions;
  readonly #open: boolean;
  readonly #total: Tally & { lag: Histogram | null };
  readonly #windows: WindowTally[];
  readonly #seconds: Tally[] = [];
  readonly #lagSeconds: LogBuckets[] = [];

  constructor(options: GeneratorRecorderOptions) {
    this.#o = options;
    this.#open = options.model === "open";
    this.#total = { intended: 0, sent: 0, notSent: 0, lag: this.#open ? createLatencyHistogram() : null };
    this.#windows = options.windows.map((span) => ({ span, intended: 0, sent: 0, notSent: 0, lag: this.#open ? createLatencyHistogram() : null }));
  }

  record(sample: ClientSample): void {
    const dueUs = Math.max(0, sample.startUs);
    const notSent = sample.status === "notSent";
    const sentUs = notSent ? null : Math.max(dueUs, sample.sentUs ?? dueUs);
    const lagUs = sentUs === null || !this.#open ? null : toRecordableUs(sentUs - dueUs);
    this.#second(dueUs).intended += this.#open ? 1 : 0;
    if (notSent) this.#second(dueUs).notSent++;
    if (sentUs !== null) this.#second(sentUs).sent++;
    if (lagUs !== null) this.#lagSecond(sentUs!).add(lagUs);

    this.#count(this.#total, sentUs, notSent, lagUs);
    for (const w of this.#windows) {
      const inWindow = (us: number): boolean => us >= w.span.start * 1000 && us < w.span.end * 1000;
      if (this.#open && inWindow(dueUs)) {
        w.intended++;
        if (notSent) w.notSent++;
      }
      if (sentUs !== null && inWindow(sentUs)) w.sent++;
      if (lagUs !== null && inWindow(dueUs)) w.lag!.recordValue(lagUs);
    }
  }

  stats(durationMs: number): GeneratorStats {
    const seconds = Math.max(this.#seconds.length, Math.ceil(durationMs / 1000));
    const perSecond: LoadSecond[] = [];
    for (let t = 0; t < seconds; t++) {
      const s = this.#seconds[t] ?? { intended: 0, sent: 0, notSent: 0 };
      const intended = this.#open ? s.intended : closedIntended(this.#o.rate, t * 1000, Math.min((t + 1) * 1000, durationMs));
      perSecond.push({ t, intended, sent: s.sent, notSent: s.notSent, lagUs: this.#lagSeconds[t]?.summary() ?? null });
    }
    const windows: Record<string, GeneratorWindow> = {};
    for (const w of this.#windows) {
      const end = Math.min(w.span.end, durationMs);
      const intended = this.#open ? w.intended : closedIntended(this.#o.rate, w.span.start, end);
      windows[w.span.name] = this.#judge(intended, w.sent, w.notSent, w.lag);
    }
    const intended = this.#open ? this.#total.intended : closedIntended(this.#o.rate, 0, durationMs);
    const keptUp = this.#open ? Object.values(windows).every((w) => w.keptUp !== false) : null;
    return {
      intended,
      sent: this.#total.sent,
      notSent: this.#total.notSent,
      lagUs: lagSummary(this.#total.lag),
      perSecond,
      windows,
      keptUp,
    };
  }

  #judge(intended: number, sent: number, notSent: number, lag: Histogram | null): GeneratorWindow {
    const lagUs = lagSummary(lag);
    if (!this.#open) return { intended, sent, notSent, lagUs: null, keptUp: null, reason: null };
    const reasons: string[] = [];
    if (lagUs !== null && lagUs.p99 > this.#o.lagToleranceUs) {
      reasons.push(`its lag p99 was ${fmtUs(lagUs.p99)}, over the ${fmtUs(this.#o.lagToleranceUs)} it allows itself`);
    }
    const couldSend = intended - notSent;
    if (couldSend > 0 && sent < MIN_SENT_SHARE * couldSend) {
      reasons.push(`it sent ${sent} of the ${couldSend} requests due (under ${MIN_SENT_SHARE * 100}%)`);
    }
    return { intended, sent, notSent, lagUs, keptUp: reasons.length === 0, reason: reasons.length ? reasons.join(", and ") : null };
  }

  #count(t: Tally & { lag: Histogram | null }, sentUs: number | null, notSent: boolean, lagUs: number | null): void {
    if (this.#open) t.intended++;
    if (notSent) t.notSent++;
    if (sentUs !== null) t.sent++;
    if (lagUs !== null) t.lag!.recordValue(lagUs);
  }

  #second(us: number): Tally {
    const t = Math.floor(us / SECOND_US);
    for (let i = this.#seconds.length; i <= t; i++) this.#seconds.push({ intended: 0, sent: 0, notSent: 0 });
    return this.#seconds[t]!;
  }

  #lagSecond(us: number): LogBuckets {
    const t = Math.floor(us / SECOND_US);
    return (this.#lagSeconds[t] ??= new LogBuckets());
  }
}

/** Requests a rate asks for in [startMs, endMs). */
function closedIntended(rate: number, startMs: number, endMs: number): number {
  return Math.max(0, Math.round((rate * (endMs - startMs)) / 1000));
}

function lagSummary(h: Histogram | null): LagSummary | null {
  if (h === null || h.totalCount === 0) return null;
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), max: h.maxValue };
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${Number((us / 1000).toFixed(2))} ms` : `${Math.round(us)} µs`;
}

/**
 * A second's lags in logarithmic buckets 5% wide: p50, p99 and max to within 5%, in 1.5 KB
 * whatever the rate, so a long run's per-second lag stays small.
 */
class LogBuckets {
  static readonly #RATIO = Math.log(1.05);
  static readonly #SIZE = 380; // 1.05^379 ≈ 1.1e8 µs: past the latency range
  readonly #counts = new Uint32Array(LogBuckets.#SIZE);
  #total = 0;
  #max = 0;

  add(us: number): void {
    const i = us < 1 ? 0 : Math.min(LogBuckets.#SIZE - 1, 1 + Math.floor(Math.log(us) / LogBuckets.#RATIO));
    this.#counts[i]!++;
    this.#total++;
    if (us > this.#max) this.#max = us;
  }

  summary(): LagSummary {
    return { p50: this.#quantile(0.5), p99: this.#quantile(0.99), max: this.#max };
  }

  /** The upper edge of the bucket holding the q-quantile, capped at the maximum seen. */
  #quantile(q: number): number {
    const rank = Math.ceil(q * this.#total);
    let seen = 0;
    for (let i = 0; i < LogBuckets.#SIZE; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(this.#max, i === 0 ? 0 : Math.round(Math.exp(i * LogBuckets.#RATIO)));
    }
    return this.#max;
  }
}
