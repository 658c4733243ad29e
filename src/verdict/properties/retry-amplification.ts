// retry_amplification: tries arriving at the callee per request the caller sent, per edge (the
// caller's outbound log over the callee's inbound log); without an edge, end to end: tries at
// every service per client request, where a retry storm shows as a product across hops.
import type { AccessLogEntry, AttemptEntry } from "../../dataplane/types.js";
import { faultSpan } from "../../faults/span.js";
import { isAttempt } from "../../observe/attempts.js";
import { countOf, select, view } from "../../observe/mesh-rows.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { expectedAttempts } from "./amplification-model.js";
import {
  dependencies,
  findFault,
  paramsOf,
  podService,
  round,
  spanEvidence,
  type PropertyContext,
  type PropertyOutcome,
} from "./context.js";
import { Prefix, slotRange } from "./sliding.js";

/** Fewest requests for an amplification threshold to be told apart: 1/(max − 1) (a step of one retry), and at least 20. */
export function minimumRequestsForAmplification(max: number): number {
  return max > 1 ? Math.max(20, Math.ceil(1 / (max - 1) - 1e-9)) : 20;
}

export function retryAmplification(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const max = params.max ?? Number.POSITIVE_INFINITY;
  let span = { start: 0, end: ctx.loadDurationMs, source: "the whole load" };
  let dependsOn: readonly string[] | "all" = "all";
  if (params.fault !== undefined) {
    const fault = findFault(ctx, params.fault);
    if (!fault) return { status: "error", observed: null, threshold: max, unit: "ratio", evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults`, dependsOn: [] };
    span = { ...faultSpan(fault.record), source: `fault ${params.fault} (${faultSpan(fault.record).source})` };
    dependsOn = [params.fault];
  }
  const inSpan = (e: AccessLogEntry) => e.ts - ctx.loadStartEpochMs >= span.start && e.ts - ctx.loadStartEpochMs < span.end && !e.healthCheck;
  const entries = view(ctx.entries, inSpan);
  const minimum = minimumRequestsForAmplification(max);
  const base = { threshold: max, unit: "ratio", dependsOn, ...(params.fault ? { window: `fault:${params.fault}` } : {}) };

  if (params.edge) {
    const { from, to } = params.edge;
    const edge = edgeCounts(entries, from, to);
    const policy = ctx.scenario.policies[to];
    const n = policy?.retries?.attempts ?? 1;
    const tries = select(ctx.events, (e): e is AttemptEntry => isAttempt(e) && e.route === to && podService(e.pod) === from && inSpanTs(e.ts - ctx.loadStartEpochMs, span));
    const firstTries = firstTryFailureRate(tries);
    const ratio = edge.requests === 0 ? null : edge.attempts / edge.requests;
    const evidence: Record<string, unknown> = {
      edge: { from, to },
      span: spanEvidence(span),
      requests: edge.requests,
      attempts: edge.attempts,
      retries: edge.retries,
      amplification: ratio === null ? null : round(ratio),
      minimumRequests: minimum,
      source: `requests: ${from}'s outbound access log to ${to}; attempts: ${to}'s inbound access log from ${from} (health checks excluded)`,
      perSecond: perSecond(ctx, from, to, span),
      model: {
        attempts: n,
        firstTryFailureRate: firstTries.rate === null ? null : round(firstTries.rate),
        firstTries: firstTries.tries,
        expected: firstTries.rate === null ? null : round(expectedAttempts(firstTries.rate, n)),
        note: "1 + p + … + p^(n−1), with p the share of first tries that failed: what independent failures would give",
      },
    };
    if (ratio === null) return { ...base, status: "inconclusive", observed: null, evidence, reason: `no request crossed ${from} → ${to} in ${describe(span)}` };
    evidence.summary = `${edge.attempts} tries reached ${to} for ${edge.requests} requests from ${from}: ×${ratio.toFixed(3)} (max ${max})`;
    if (edge.requests < minimum) {
      return { ...base, status: "inconclusive", observed: ratio, evidence, reason: `an amplification threshold of ${max} needs at least ${minimum} requests to be resolved; ${from} → ${to} carried ${edge.requests} in ${describe(span)}` };
    }
    return { ...base, status: ratio <= max ? "passed" : "failed", observed: ratio, evidence, reason: null };
  }

  // End to end: tries at every service per client request, and the per-hop factors along each path.
  const ingress = ctx.scenario.load.target;
  const slots = slotRange(span.start, span.end, ctx.series.slotMs, ctx.series.requests.length);
  const clientRequests = new Prefix(ctx.series.requests).sum(slots.first, slots.end);
  const reach = dependencies(ctx.scenario, ingress);
  const hops = ctx.scenario.services.flatMap((s) => s.calls.map((to) => ({ from: s.name, to })));
  const hopRatio = new Map(hops.map((h) => {
    const c = edgeCounts(entries, h.from, h.to);
    return [`${h.from}>${h.to}`, { ...h, requests: c.requests, attempts: c.attempts, ratio: c.requests === 0 ? null : c.attempts / c.requests }];
  }));
  const services = [...reach.entries()].map(([service, path]) => {
    const attempts = countOf(entries, (e) => e.direction === "inbound" && podService(e.pod) === service && e.from !== null);
    let product: number | null = 1;
    for (let i = 1; i < path.length; i++) {
      const r = hopRatio.get(`${path[i - 1]}>${path[i]}`)?.ratio ?? null;
      product = product === null || r === null ? null : product * r;
    }
    return {
      service,
      attempts,
      perClientRequest: clientRequests === 0 ? null : round(attempts / clientRequests),
      path: path.join(" → "),
      hopProduct: product === null ? null : round(product),
    };
  });
  const worst = services.reduce<(typeof services)[number] | null>(
    (w, s) => (s.perClientRequest !== null && (w === null || (w.perClientRequest ?? 0) < s.perClientRequest) ? s : w),
    null,
  );
  const evidence: Record<string, unknown> = {
    span: spanEvidence(span),
    clientRequests,
    services,
    hops: [...hopRatio.values()].map((h) => ({ ...h, ratio: h.ratio === null ? null : round(h.ratio) })),
    minimumRequests: minimum,
    source: `client requests: the load generator's 100 ms series; tries: each service's inbound access log (callers in the mesh only)`,
  };
  if (clientRequests === 0 || worst === null) return { ...base, status: "inconclusive", observed: null, evidence, reason: `no client request started in ${describe(span)}` };
  const observed = worst.perClientRequest!;
  evidence.summary = `${worst.service} received ${observed.toFixed(3)} tries per client request (${worst.path}; hop product ${worst.hopProduct ?? "n/a"})`;
  if (clientRequests < minimum) {
    return { ...base, status: "inconclusive", observed, evidence, reason: `an amplification threshold of ${max} needs at least ${minimum} client requests; ${describe(span)} has ${clientRequests}` };
  }
  return { ...base, status: observed <= max ? "passed" : "failed", observed, evidence, reason: null };
}

/** Requests from `from`'s sidecars to `to`, and tries that reached `to`'s sidecars from `from`. */
export function edgeCounts(entries: Iterable<AccessLogEntry>, from: string, to: string): { requests: number; attempts: number; retries: number } {
  let requests = 0;
  let attempts = 0;
  let retries = 0;
  for (const e of entries) {
    if (e.healthCheck) continue;
    if (e.direction === "outbound" && e.route === to && podService(e.pod) === from) {
      requests++;
      retries += e.retries;
    } else if (e.direction === "inbound" && e.from === from && podService(e.pod) === to) attempts++;
  }
  return { requests, attempts, retries };
}

/** Share of requests whose first try failed, from the caller's try log. */
function firstTryFailureRate(tries: readonly AttemptEntry[]): { rate: number | null; tries: number } {
  const first = new Map<string, { ts: number; outcome: string }>();
  for (const t of tries) {
    if (!t.requestId || t.outcome === "not-sent") continue;
    const key = `${t.pod}\u0000${t.requestId}`;
    const seen = first.get(key);
    if (!seen || t.ts < seen.ts) first.set(key, { ts: t.ts, outcome: t.outcome });
  }
  if (first.size === 0) return { rate: null, tries: 0 };
  let failed = 0;
  for (const f of first.values()) if (f.outcome !== "ok") failed++;
  return { rate: failed / first.size, tries: first.size };
}

function perSecond(ctx: PropertyContext, from: string, to: string, span: { start: number; end: number }): { t: number; requests: number; attempts: number }[] | null {
  const points = ctx.meshTimeline?.edges.find((e) => e.from === from && e.to === to)?.points;
  if (!points) return null;
  return points.filter((p) => (p.t + 1) * 1000 > span.start && p.t * 1000 < span.end).map((p) => ({ t: p.t, requests: p.requests, attempts: p.attempts }));
}

function inSpanTs(t: number, span: { start: number; end: number }): boolean {
  return t >= span.start && t < span.end;
}

function describe(span: { start: number; end: number; source?: string }): string {
  return `${span.source ?? "the span"} (${Math.round(span.start)}–${Math.round(span.end)} ms)`;
}
