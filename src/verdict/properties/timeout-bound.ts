// timeout_bound: no request took longer than the policy's timeout plus a stated slack. On an
// edge, the caller sidecar's own duration for each request to the callee (its access log, ms)
// against the callee policy's timeout. At the client (no edge), each client request against
// `within`, or against what the policy allows the ingress: its own slowest service time plus
// the timeouts of the calls it makes in turn. The slack covers what lies outside the deadline:
// HAProxy's timers (measured 500–555 ms for 500 ms, docs/policy.md), the ingress's own work and
// the load generator.
import type { AccessLogEntry } from "../../dataplane/types.js";
import { faultSpan } from "../../faults/span.js";
import { select } from "../../observe/mesh-rows.js";
import type { PropertyCheck, ResolvedScenario } from "../../scenario/types.js";
import { findFault, ms, paramsOf, podService, round, spanEvidence, type PropertyContext, type PropertyOutcome } from "./context.js";
import { Prefix, slotRange } from "./sliding.js";

/** Slack over a bound: 150 ms plus 10% of the bound. */
export function timeoutSlackMs(boundMs: number): number {
  return 150 + 0.1 * boundMs;
}

/** What the policy lets a client request to the ingress take: its slowest service time and each call's timeout in turn. */
export function clientBoundMs(scenario: Pick<ResolvedScenario, "services" | "policies" | "load">): number {
  const ingress = scenario.services.find((s) => s.name === scenario.load.target);
  if (!ingress) return 0;
  return ingress.latency.maxMs + ingress.calls.reduce((sum, c) => sum + (scenario.policies[c]?.timeoutMs ?? 0), 0);
}

/** The client latency (µs) a timeout_bound check at the client counts requests against: bound + slack. */
export function clientLimitUs(check: PropertyCheck, scenario: Pick<ResolvedScenario, "services" | "policies" | "load">): number | null {
  const params = paramsOf(check);
  if (params.edge) return null;
  const bound = params.withinMs ?? clientBoundMs(scenario);
  return Math.round((bound + timeoutSlackMs(bound)) * 1000);
}

export function timeoutBound(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  let span = { start: 0, end: ctx.loadDurationMs, source: "the whole load" };
  let dependsOn: readonly string[] | "all" = "all";
  if (params.fault !== undefined) {
    const fault = findFault(ctx, params.fault);
    if (!fault) return { status: "error", observed: null, threshold: null, unit: "ms", evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults`, dependsOn: [] };
    const s = faultSpan(fault.record);
    span = { ...s, source: `fault ${params.fault} (${s.source})` };
    dependsOn = [params.fault];
  }
  const windowName = params.fault ? `fault:${params.fault}` : "whole";

  if (params.edge) {
    const { from, to } = params.edge;
    const timeoutMs = params.withinMs ?? ctx.scenario.policies[to]?.timeoutMs ?? 0;
    const slackMs = timeoutSlackMs(timeoutMs);
    const limit = timeoutMs + slackMs;
    const requests = select(ctx.entries, 
      (e) => e.direction === "outbound" && e.route === to && podService(e.pod) === from && inSpan(e, ctx, span),
    );
    const durations = requests.map((e) => e.durationMs).sort((a, b) => a - b);
    const over = requests.filter((e) => e.durationMs > limit);
    const slowest = [...requests].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5).map((e) => slow(e, ctx));
    const evidence: Record<string, unknown> = {
      edge: { from, to },
      timeoutMs,
      timeoutSource: params.withinMs !== undefined ? "within" : `the policy of ${to}`,
      slackMs,
      limitMs: limit,
      span: spanEvidence(span),
      requests: requests.length,
      overLimit: over.length,
      maxMs: durations.at(-1) ?? null,
      p99Ms: durations.length ? durations[Math.max(0, Math.ceil(0.99 * durations.length) - 1)] : null,
      slowest,
      source: `${from}'s outbound access log to ${to}: each request's total time at the caller's sidecar (Ta, ms)`,
    };
    const base = { unit: "ms", threshold: limit, dependsOn, window: windowName };
    if (requests.length === 0) return { ...base, status: "inconclusive", observed: null, evidence, reason: `no request crossed ${from} → ${to} in ${span.source}` };
    const observed = durations.at(-1)!;
    evidence.summary = `slowest ${from} → ${to} request took ${ms(observed)}; limit ${ms(timeoutMs)} + ${ms(slackMs)} slack; ${over.length} of ${requests.length} over`;
    return { ...base, status: over.length === 0 ? "passed" : "failed", observed, evidence, reason: null };
  }

  const boundMs = params.withinMs ?? clientBoundMs(ctx.scenario);
  const slackMs = timeoutSlackMs(boundMs);
  const limitUs = Math.round((boundMs + slackMs) * 1000);
  const base = { unit: "ms", threshold: boundMs + slackMs, dependsOn, window: windowName };
  const t = ctx.series.latency.find((l) => l.thresholdUs === limitUs);
  if (!t) return { ...base, status: "error", observed: null, evidence: {}, reason: `the client series has no counts against ${limitUs} µs` };
  const { first, end } = slotRange(span.start, span.end, ctx.series.slotMs, ctx.series.requests.length);
  const requests = new Prefix(ctx.series.requests).sum(first, end);
  const within = new Prefix(t.le).sum(first, end);
  const stats = ctx.client.windows[windowName];
  const ingress = ctx.scenario.services.find((s) => s.name === ctx.scenario.load.target);
  const evidence: Record<string, unknown> = {
    boundMs,
    boundSource:
      params.withinMs !== undefined
        ? "within"
        : `${ctx.scenario.load.target}'s slowest service time (${ingress?.latency.maxMs ?? 0} ms) + the timeouts of its calls (${(ingress?.calls ?? []).map((c) => `${c} ${ctx.scenario.policies[c]?.timeoutMs ?? 0} ms`).join(", ") || "none"})`,
    slackMs,
    limitMs: boundMs + slackMs,
    span: spanEvidence(span),
    requests,
    overLimit: requests - within,
    maxMs: stats ? round(stats.latencyUs.max / 1000) : null,
    p99Ms: stats ? round(stats.latencyUs.p99 / 1000) : null,
    source: `the load generator: each client request's latency (µs), counted against the limit per 100 ms slot; max from client.windows["${windowName}"]`,
  };
  if (requests === 0) return { ...base, status: "inconclusive", observed: null, evidence, reason: `no client request started in ${span.source}` };
  const observed = stats ? stats.latencyUs.max / 1000 : null;
  evidence.summary = `${requests - within} of ${requests} client requests took longer than ${ms(boundMs)} + ${ms(slackMs)} slack${observed === null ? "" : `; the slowest ${ms(observed)}`}`;
  return { ...base, status: requests === within ? "passed" : "failed", observed, evidence, reason: null };
}

function inSpan(e: AccessLogEntry, ctx: PropertyContext, span: { start: number; end: number }): boolean {
  const t = e.ts - ctx.loadStartEpochMs;
  return t >= span.start && t < span.end;
}

function slow(e: AccessLogEntry, ctx: PropertyContext): Record<string, unknown> {
  return { at: e.ts - ctx.loadStartEpochMs, pod: e.pod, durationMs: e.durationMs, status: e.status, cause: e.cause ?? null, requestId: e.traceId ?? e.requestId ?? null };
}
