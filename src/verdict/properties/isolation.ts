// isolation (bulkhead): a route that does not depend on the failing service keeps its SLOs while
// the fault is on — and keeps its traffic. A route is either
// - a service (`target`): every request the mesh delivered to it, as its callers' sidecars saw
//   them (status, cause and time, from their outbound access logs); the scenario's call graph
//   must not lead from it to the fault's target — a route that depends on the failing service is
//   not isolated from it by definition, and the check says so instead of judging it; or
// - a path of the load's request mix (`path`): the client requests to that path, for apps that
//   route by path (the built-in fixture serves every path the same way, so with it a path route
//   depends on everything the ingress calls).
// Kept traffic: the route's request rate during the fault is at least `min` (default 80%) of its
// rate before the first fault — a slow dependency that ties up the callers' connections starves
// unrelated routes without failing a single one of their requests.
import { faultSpan } from "../../faults/span.js";
import type { PropertyCheck, SloExpression } from "../../scenario/types.js";
import { percentileOf } from "../../observe/client-histogram.js";
import { compare, minimumRequests } from "../slo-threshold.js";
import { dependencies, findFault, ms, paramsOf, pct, podService, round, type PropertyContext, type PropertyOutcome } from "./context.js";
import { scenarioSlos } from "./failover.js";

export const DEFAULT_ISOLATION_MIN = 0.8;
/** The default SLO when neither the check nor the scenario names one. */
const DEFAULT_SLO: SloExpression = { source: "error_rate < 1%", metric: { kind: "error_rate" }, op: "<", threshold: 0.01 };
/** Requests before the fault below which its rate is too noisy to compare against. */
const MIN_BASELINE_REQUESTS = 20;

interface RouteSample {
  requests: number;
  errors: number;
  /** Latencies in µs (service routes), or an encoded histogram (path routes). */
  latenciesUs: number[] | null;
  histogram: string | null;
  durationMs: number;
}

export function isolation(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const min = params.min ?? DEFAULT_ISOLATION_MIN;
  const fault = findFault(ctx, params.fault!);
  const base = { unit: "fraction", threshold: min, dependsOn: params.fault ? [params.fault] : ([] as string[]), window: `fault:${params.fault}` };
  if (!fault) return { ...base, status: "error", observed: null, evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults` };
  const span = faultSpan(fault.record);
  const slos = params.slos ?? (scenarioSlos(ctx).length ? scenarioSlos(ctx) : [DEFAULT_SLO]);
  const firstFault = Math.min(...ctx.faults.map((f) => faultSpan(f).start));
  const baseline = { start: 0, end: Math.max(0, firstFault) };

  let route: string;
  let during: RouteSample;
  let before: RouteSample;
  let source: string;
  if (params.target) {
    const service = params.target.service;
    route = `service ${service}`;
    const failing = fault.resolved.target;
    const reach = dependencies(ctx.scenario, service);
    if (service === failing || reach.has(failing)) {
      const via = service === failing ? service : reach.get(failing)!.join(" → ");
      return {
        ...base,
        status: "error",
        observed: null,
        evidence: { route, failing, dependsVia: via },
        reason: `${service} depends on ${failing} (${via}), so it cannot be isolated from fault ${fault.record.name}; isolation judges a route that does not`,
      };
    }
    during = serviceRoute(ctx, service, span);
    before = serviceRoute(ctx, service, baseline);
    source = `the outbound access logs of ${service}'s callers: each request's status, cause and time at the caller's sidecar (ms)`;
  } else {
    const path = params.path!;
    route = `path ${path}`;
    const stats = ctx.client.paths?.[path];
    if (!stats) {
      const known = Object.keys(ctx.client.paths ?? {});
      return {
        ...base,
        status: "error",
        observed: null,
        evidence: { route },
        reason: `the client kept no statistics for path ${path}${known.length ? `; paths: ${known.join(", ")}` : ": the load's mix has a single path"}`,
      };
    }
    const pathWindow = (name: string, start: number, end: number): RouteSample => {
      const w = stats.windows[name];
      return { requests: w?.requests ?? 0, errors: w?.errors ?? 0, latenciesUs: null, histogram: w?.histogram ?? null, durationMs: end - start };
    };
    const windowOf = (name: string) => ctx.windows.find((w) => w.name === name);
    const f = windowOf(`fault:${fault.record.name}`);
    const b = windowOf("baseline");
    during = pathWindow(`fault:${fault.record.name}`, f?.start ?? span.start, f?.end ?? span.end);
    before = pathWindow("baseline", b?.start ?? 0, b?.end ?? 0);
    source = `the load generator's requests to ${path}, in the planned windows fault:${fault.record.name} and baseline`;
  }

  const rate = (s: RouteSample) => (s.durationMs > 0 ? (s.requests * 1000) / s.durationMs : 0);
  const kept = before.requests >= MIN_BASELINE_REQUESTS && rate(before) > 0 ? rate(during) / rate(before) : null;
  const results = slos.map((slo) => judgeSlo(slo, during));
  const evidence: Record<string, unknown> = {
    route,
    fault: fault.record.name,
    failing: fault.resolved.target,
    faultSpan: { start: span.start, end: span.end, source: span.source },
    during: { requests: during.requests, errors: during.errors, ratePerSecond: round(rate(during)) },
    baseline: { start: baseline.start, end: baseline.end, requests: before.requests, ratePerSecond: round(rate(before)) },
    throughputKept: kept === null ? null : round(kept),
    min,
    slos: results,
    source,
  };
  if (kept !== null && kept < min) {
    evidence.summary = `${route} kept ${pct(kept)} of its traffic while ${fault.resolved.target} was failing (${round(rate(during))}/s against ${round(rate(before))}/s before): starved`;
    return { ...base, status: "failed", observed: kept, evidence, reason: null };
  }
  const thin = results.filter((r) => r.requests < r.minimumRequests);
  const broken = results.filter((r) => r.requests >= r.minimumRequests && !r.holds);
  if (broken.length > 0) {
    evidence.summary = `${route} broke ${broken.map((r) => `${r.slo} (${r.observedText})`).join(", ")} while ${fault.resolved.target} was failing`;
    return { ...base, status: "failed", observed: kept, evidence, reason: null };
  }
  if (thin.length > 0 || during.requests === 0) {
    const r = thin[0];
    return {
      ...base,
      status: "inconclusive",
      observed: kept,
      evidence,
      reason: r
        ? `${r.slo} needs at least ${r.minimumRequests} requests on ${route}; it had ${during.requests} during fault ${fault.record.name} (${ms(span.end - span.start)})`
        : `no request on ${route} during fault ${fault.record.name}`,
    };
  }
  evidence.summary =
    `${route} held ${slos.map((s) => s.source).join(", ")} while ${fault.resolved.target} was failing` +
    (kept === null ? " (no baseline to compare its traffic with)" : ` and kept ${pct(kept)} of its traffic`);
  return { ...base, status: "passed", observed: kept, evidence, reason: null };
}

/** The requests the mesh delivered to `service` in [start, end): its callers' outbound view. */
function serviceRoute(ctx: PropertyContext, service: string, span: { start: number; end: number }): RouteSample {
  let requests = 0;
  let errors = 0;
  const latenciesUs: number[] = [];
  for (const e of ctx.entries) {
    if (e.direction !== "outbound" || e.route !== service || e.healthCheck) continue;
    if (podService(e.pod) === service) continue;
    const t = e.ts - ctx.loadStartEpochMs;
    if (t < span.start || t >= span.end) continue;
    requests++;
    if (e.status >= 500 || e.status <= 0 || (e.cause !== undefined && e.cause !== "ok")) errors++;
    latenciesUs.push(e.durationMs * 1000);
  }
  latenciesUs.sort((a, b) => a - b);
  return { requests, errors, latenciesUs, histogram: null, durationMs: span.end - span.start };
}

function judgeSlo(slo: SloExpression, s: RouteSample): { slo: string; holds: boolean; observed: number | null; observedText: string; requests: number; minimumRequests: number } {
  const minimum = minimumRequests(slo.metric, slo.threshold);
  let observed: number | null = null;
  if (slo.metric.kind === "error_rate") observed = s.requests === 0 ? null : s.errors / s.requests;
  else if (s.latenciesUs) observed = s.latenciesUs.length === 0 ? null : s.latenciesUs[Math.max(0, Math.ceil((slo.metric.percentile / 100) * s.latenciesUs.length - 1e-9) - 1)]!;
  else if (s.histogram) observed = percentileOf(s.histogram, slo.metric.percentile);
  const holds = observed !== null && compare(observed, slo.op, slo.threshold);
  const observedText = observed === null ? "n/a" : slo.metric.kind === "error_rate" ? pct(observed) : ms(observed / 1000);
  return { slo: slo.source, holds, observed: observed === null ? null : round(observed), observedText, requests: s.requests, minimumRequests: minimum };
}
