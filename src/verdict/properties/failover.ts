// failover and recovery: how long after a fault's start the client's success rate is back at
// `min` (failover), and how long after its end the SLOs hold again (recovery) — both read off
// the client's 100 ms series with sliding windows just long enough to resolve the threshold (a
// 99% success rate needs 100 requests in a window; sliding.ts). "Back" means: from that moment
// every later window in the span holds. The time's resolution is a window's length at the
// span's mean rate, so a `within` shorter than that cannot be judged: inconclusive.
import { faultSpan, type FaultSpan } from "../../faults/span.js";
import type { PropertyCheck, SloExpression } from "../../scenario/types.js";
import { findFault, ms, paramsOf, pct, round, type PropertyContext, type PropertyOutcome } from "./context.js";
import { MissingThresholdError, settle, slotRange, windowJudge, windowSlots } from "./sliding.js";

/** failover's default `min`: the success rate the client must be back at. */
export const DEFAULT_FAILOVER_MIN = 0.99;
/** Slots of the series shown in the evidence around the judged moment. */
const SERIES_EXCERPT_SLOTS = 100;

export function failover(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const min = params.min ?? DEFAULT_FAILOVER_MIN;
  const fault = findFault(ctx, params.fault!);
  if (!fault) return missingFault(params.fault!);
  const span = faultSpan(fault.record);
  // Success rate ≥ min is the SLO error_rate <= 1 − min.
  const slo: SloExpression = { source: `success rate >= ${pct(min)}`, metric: { kind: "error_rate" }, op: "<=", threshold: 1 - min + 1e-12 };
  return settleAfter(ctx, {
    kind: "failover",
    from: span.start,
    to: span.end,
    span,
    slos: [slo],
    withinMs: params.withinMs ?? null,
    dependsOn: [fault.record.name],
    window: `fault:${fault.record.name}`,
    what: `the client's success rate was back at ${pct(min)}`,
    moment: "the fault started",
  });
}

export function recovery(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const fault = findFault(ctx, params.fault!);
  if (!fault) return missingFault(params.fault!);
  const span = faultSpan(fault.record);
  const slos = params.slos ?? scenarioSlos(ctx);
  if (slos.length === 0) {
    return { status: "error", observed: null, threshold: params.withinMs ?? null, unit: "ms", evidence: {}, reason: `recovery needs SLOs to hold again: name them with "slos" or add slo checks to the scenario`, dependsOn: [] };
  }
  // Until the next fault starts, or the load ends (the recovery window, with the real times).
  const next = ctx.faults.filter((f) => f.name !== fault.record.name).map((f) => faultSpan(f).start).filter((t) => t >= span.end);
  const to = Math.min(ctx.loadDurationMs, ...next);
  return settleAfter(ctx, {
    kind: "recovery",
    from: span.end,
    to,
    span,
    slos,
    withinMs: params.withinMs ?? null,
    dependsOn: [fault.record.name],
    window: `recovery:${fault.record.name}`,
    what: `${slos.map((s) => s.source).join(" and ")} held again`,
    moment: "the fault ended",
  });
}

/** Every SLO expression the scenario's slo checks judge, once each. */
export function scenarioSlos(ctx: Pick<PropertyContext, "scenario">): SloExpression[] {
  const seen = new Map<string, SloExpression>();
  for (const c of ctx.scenario.checks) if (c.kind === "slo" && !seen.has(c.expression.source)) seen.set(c.expression.source, c.expression);
  return [...seen.values()];
}

interface SettleSpec {
  kind: "failover" | "recovery";
  /** Judged from → to, ms from the start of load. */
  from: number;
  to: number;
  span: FaultSpan;
  slos: SloExpression[];
  withinMs: number | null;
  dependsOn: string[];
  window: string;
  what: string;
  moment: string;
}

function settleAfter(ctx: PropertyContext, spec: SettleSpec): PropertyOutcome {
  const base = { unit: "ms", threshold: spec.withinMs, dependsOn: spec.dependsOn, window: spec.window };
  const series = ctx.series;
  const { first, end } = slotRange(spec.from, spec.to, series.slotMs, series.requests.length);
  let judge;
  try {
    judge = windowJudge(series, spec.slos);
  } catch (e) {
    if (e instanceof MissingThresholdError) return { ...base, status: "error", observed: null, evidence: {}, reason: e.message };
    throw e;
  }
  const requests = judge.requests.sum(first, end);
  const meanPerSlot = end > first ? requests / (end - first) : 0;
  const w = windowSlots(meanPerSlot, judge.minimumRequests);
  const windowMs = w * series.slotMs;
  const evidence: Record<string, unknown> = {
    fault: spec.span.name,
    faultSpan: { start: spec.span.start, end: spec.span.end, source: spec.span.source },
    judged: { start: first * series.slotMs, end: end * series.slotMs },
    slos: spec.slos.map((s) => s.source),
    requests,
    ratePerSecond: round((meanPerSlot * 1000) / series.slotMs),
    minimumRequestsPerWindow: judge.minimumRequests,
    typicalWindowMs: Number.isFinite(windowMs) ? windowMs : null,
    window: `from each ${series.slotMs} ms step until it holds ${judge.minimumRequests} requests (what ${spec.slos.map((s) => s.source).join(", ")} needs to be resolved)`,
    stepMs: series.slotMs,
    source: "the load generator's 100 ms series of the client's requests (by start time), failures and latency counts against each SLO threshold",
  };
  const inconclusive = (reason: string): PropertyOutcome => ({ ...base, status: "inconclusive", observed: null, evidence, reason });
  if (requests === 0) return inconclusive(`no client request started between ${spec.from} and ${spec.to} ms`);
  if (!Number.isFinite(w) || first + w > end) {
    return inconclusive(
      `at ${evidence.ratePerSecond} req/s a window resolving ${spec.slos.map((s) => s.source).join(", ")} needs ${judge.minimumRequests} requests ` +
        `(${Number.isFinite(windowMs) ? ms(windowMs) : "∞"}), longer than the ${ms(spec.to - spec.from)} there is to judge`,
    );
  }
  if (spec.withinMs !== null && windowMs > spec.withinMs) {
    return inconclusive(
      `at ${evidence.ratePerSecond} req/s a window resolving ${spec.slos.map((s) => s.source).join(", ")} needs ${judge.minimumRequests} requests ` +
        `(${ms(windowMs)}): longer than within ${ms(spec.withinMs)}, so the time cannot be told to that precision; raise the load's rate`,
    );
  }
  const r = settle(judge, first, end);
  evidence.windows = r.windows;
  evidence.windowsBreaking = r.breaking;
  evidence.tailNotJudgedMs = r.tailSlots * series.slotMs;
  if (r.worst) evidence.worstWindow = windowEvidence(series.slotMs, r.worst, spec.slos);
  if (r.lastBad) evidence.lastBadWindow = { start: r.lastBad.a * series.slotMs, end: r.lastBad.b * series.slotMs, requests: r.lastBad.requests };
  const settledAt = r.settledSlot === null ? null : r.settledSlot * series.slotMs;
  evidence.series = excerpt(series, Math.max(0, first - 10), Math.min(end, (r.settledSlot ?? end) + w + 10));
  if (settledAt === null) {
    evidence.summary = `${spec.what} never, up to ${spec.to} ms (${ms(spec.to - spec.from)} after ${spec.moment})`;
    return { ...base, status: "failed", observed: null, evidence, reason: null };
  }
  const observed = Math.max(0, settledAt - spec.from);
  evidence.settledAt = settledAt;
  evidence.summary =
    observed === 0
      ? `${spec.what} throughout: every ${ms(windowMs)} window from ${spec.moment} on held`
      : `${spec.what} ${ms(observed)} after ${spec.moment} (at ${settledAt} ms; resolution ${ms(windowMs)})`;
  const passed = spec.withinMs === null || observed <= spec.withinMs;
  return { ...base, status: passed ? "passed" : "failed", observed, evidence, reason: null };
}

function windowEvidence(
  slotMs: number,
  w: { a: number; b: number; requests: number; results: { value: number; holds: boolean }[] },
  slos: readonly SloExpression[],
): Record<string, unknown> {
  return {
    start: w.a * slotMs,
    end: w.b * slotMs,
    requests: w.requests,
    results: w.results.map((r, i) => ({ slo: slos[i]!.source, holds: r.holds, value: round(r.value), meaning: slos[i]!.metric.kind === "error_rate" ? "error rate" : "share under the threshold" })),
  };
}

/** [t ms, requests, errors] per slot over [a, b), at most SERIES_EXCERPT_SLOTS of them. */
function excerpt(series: PropertyContext["series"], a: number, b: number): { slotMs: number; points: [number, number, number][] } {
  const hi = Math.min(b, a + SERIES_EXCERPT_SLOTS, series.requests.length);
  const points: [number, number, number][] = [];
  for (let i = a; i < hi; i++) points.push([i * series.slotMs, series.requests[i] ?? 0, series.errors[i] ?? 0]);
  return { slotMs: series.slotMs, points };
}

function missingFault(name: string): PropertyOutcome {
  return { status: "error", observed: null, threshold: null, unit: "ms", evidence: {}, reason: `fault "${name}" is not one of the run's faults`, dependsOn: [] };
}
