// circuit_trip: the concurrency breaker on an edge did its job under overload. Each caller's
// sidecar keeps its own breaker for the callee (as each Envoy does): at most maxConnections
// requests at the callee, at most maxPending waiting, the rest refused at once with a 503
// (cause "overflow" in the caller's access log). Judged per caller pod:
// - overload starts when the requests the caller's sidecar has admitted to the callee (serving
//   plus waiting, from its outbound log) first reach maxConnections + maxPending — from then on a
//   new request can only be refused. During a fault the search starts at the fault;
// - the breaker must refuse within `within` of that (else it tripped late, or never);
// - it must stop refusing within `within` of the fault's end (for the whole load: of the last
//   moment the sidecar was at its limit);
// - the callee must never have more than maxConnections requests from that caller in flight at
//   once (its inbound log, at the log's 2 ms resolution).
// A run in which no caller ever reached the limits cannot show a trip: inconclusive.
import { faultSpan } from "../../faults/span.js";
import { peakInFlight, timesAtLevel } from "../../observe/concurrency.js";
import { select } from "../../observe/mesh-rows.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { findFault, ms, paramsOf, podService, spanEvidence, type PropertyContext, type PropertyOutcome } from "./context.js";

export function circuitTrip(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const { from, to } = params.edge!;
  const withinMs = params.withinMs!;
  const breaker = ctx.scenario.policies[to]?.circuitBreaker ?? null;
  const base = { unit: "ms", threshold: withinMs };

  let span = { start: 0, end: ctx.loadDurationMs, source: "the whole load" };
  let dependsOn: readonly string[] | "all" = "all";
  let window = "whole";
  if (params.fault !== undefined) {
    const fault = findFault(ctx, params.fault);
    if (!fault) return { ...base, status: "error", observed: null, evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults`, dependsOn: [] };
    const s = faultSpan(fault.record);
    span = { ...s, source: `fault ${params.fault} (${s.source})` };
    dependsOn = [params.fault];
    window = `fault:${params.fault}`;
  }
  if (breaker?.maxConnections == null) {
    return {
      ...base,
      status: "failed",
      observed: null,
      evidence: { edge: { from, to }, span: spanEvidence(span) },
      reason: `policies.${to} has no circuitBreaker.maxConnections: there is no breaker on ${from} → ${to} to trip`,
      dependsOn,
      window,
    };
  }
  const maxConnections = breaker.maxConnections;
  const limit = maxConnections + (breaker.maxPending ?? 0);

  const rel = (e: { ts: number }): number => e.ts - ctx.loadStartEpochMs;
  const outbound = select(ctx.entries, (e) => e.direction === "outbound" && e.route === to && podService(e.pod) === from);
  const inbound = select(ctx.entries, (e) => e.direction === "inbound" && e.route === to && e.from === from && !e.healthCheck);
  const pods = [...new Set(outbound.map((e) => e.pod))].sort();

  // Refusals may go on a little past the span (requests in flight when it ended still hold their slots).
  const refusals = outbound.filter((e) => e.cause === "overflow").map(rel).sort((a, b) => a - b);
  const inSpan = refusals.filter((t) => t >= span.start && t < span.end);
  const perPod = pods.map((pod) => {
    const admitted = outbound.filter((e) => e.pod === pod && e.cause !== "overflow").map((e) => ({ ts: rel(e), durationMs: e.durationMs }));
    const atLimit = timesAtLevel(
      admitted.filter((s) => s.ts + s.durationMs >= span.start && s.ts < span.end),
      limit,
    );
    const replica = Number(pod.slice(pod.lastIndexOf("-") + 1));
    const atCallee = inbound.filter((e) => (e.fromReplica ?? null) === replica).map((e) => ({ ts: rel(e), durationMs: e.durationMs }));
    const peak = peakInFlight(atCallee);
    const podRefusals = outbound.filter((e) => e.pod === pod && e.cause === "overflow").map(rel);
    return { pod, atLimit, peak, refusals: podRefusals.length };
  });
  const onsets = perPod.map((p) => p.atLimit?.first).filter((t): t is number => t !== undefined);
  const overloadStart = onsets.length ? Math.max(span.start, Math.min(...onsets)) : null;
  const overloadEnd = perPod.reduce<number | null>((m, p) => (p.atLimit ? Math.max(m ?? -Infinity, p.atLimit.last) : m), null);
  const peak = Math.max(0, ...perPod.map((p) => p.peak.peak));
  const firstRefusal = inSpan[0] ?? null;
  const recoveryRef = params.fault !== undefined ? span.end : (overloadEnd ?? span.end);
  const lastRefusal = refusals.filter((t) => t >= span.start).at(-1) ?? null;

  const evidence: Record<string, unknown> = {
    edge: { from, to },
    maxConnections,
    maxPending: breaker.maxPending,
    span: spanEvidence(span),
    overloadStart,
    overloadEnd,
    firstRefusal,
    lastRefusal,
    refusals: inSpan.length,
    refusalsPerSecond: perSecond(refusals.filter((t) => t >= span.start && t < span.end + withinMs), span.start, span.end + withinMs),
    peakInFlightAtCallee: peak,
    byCaller: perPod.map((p) => ({ pod: p.pod, refusals: p.refusals, peakInFlightAtCallee: p.peak.peak, atLimitFrom: p.atLimit?.first ?? null, atLimitUntil: p.atLimit?.last ?? null })),
    source: `${from}'s outbound access log to ${to} (admitted requests and overflow refusals, ms) and ${to}'s inbound log (requests from each caller in flight)`,
  };
  const outcome = (status: PropertyOutcome["status"], observed: number | null, reason: string | null): PropertyOutcome => ({
    ...base,
    status,
    observed,
    evidence,
    reason,
    dependsOn,
    window,
  });

  const problems: string[] = [];
  if (peak > maxConnections) problems.push(`${to} had ${peak} requests from one ${from} sidecar in flight at once, over maxConnections ${maxConnections}`);
  if (overloadStart === null && inSpan.length === 0) {
    if (problems.length) return outcome("failed", null, problems.join("; "));
    const most = Math.max(0, ...perPod.map((p) => p.peak.peak));
    return outcome(
      "inconclusive",
      null,
      `no ${from} sidecar reached the breaker's limits (maxConnections ${maxConnections} + maxPending ${breaker.maxPending ?? 0}) in ${span.source}: ` +
        `nothing for it to refuse (at most ${most} in flight at ${to})`,
    );
  }
  if (firstRefusal === null) problems.push(`the breaker never refused a request in ${span.source}, though ${from}'s sidecar was at its limits from ${ms(overloadStart!)}`);
  const delay = firstRefusal === null || overloadStart === null ? null : Math.max(0, firstRefusal - overloadStart);
  if (delay !== null && delay > withinMs) problems.push(`it first refused at ${ms(firstRefusal!)}, ${ms(delay)} after the overload began (${ms(overloadStart!)}), later than ${ms(withinMs)}`);
  if (lastRefusal !== null && lastRefusal > recoveryRef + withinMs) {
    const ref = params.fault !== undefined ? `fault ${params.fault} ended (${ms(recoveryRef)})` : `the overload ended (${ms(recoveryRef)})`;
    problems.push(`it still refused at ${ms(lastRefusal)}, more than ${ms(withinMs)} after ${ref}`);
  }
  if (problems.length) return outcome("failed", delay, problems.join("; "));
  evidence.summary = `tripped ${delay === null ? "at once" : `${ms(delay)} after the overload began`}; ${inSpan.length} refused; stopped by ${ms(lastRefusal ?? 0)}; at most ${peak} in flight at ${to} (maxConnections ${maxConnections})`;
  return outcome("passed", delay, null);
}

function perSecond(times: readonly number[], start: number, end: number): { t: number; refused: number }[] {
  const first = Math.floor(start / 1000);
  const last = Math.ceil(end / 1000);
  const out = Array.from({ length: Math.max(0, last - first) }, (_, i) => ({ t: first + i, refused: 0 }));
  for (const t of times) {
    const slot = out[Math.floor(t / 1000) - first];
    if (slot) slot.refused++;
  }
  return out;
}
