// Policy lint: settings that can never act at the scenario's own load and topology, and settings
// that contradict each other. Pure; `meshquake validate` and `meshquake plan` print the result.
// Each message starts with the policy path it is about.
import { FAULT_KIND_FACTS } from "../faults/kinds.js";
import { formatDuration as ms } from "../scenario/duration.js";
import type { ResolvedPolicy, ResolvedScenario } from "../scenario/types.js";
import type { PlanWarning, WarningId } from "../scenario/warnings.js";

/** A warning about one field of a destination's policy. */
type At = (id: WarningId, field: string, message: string) => PlanWarning;

/** Warnings about `policies.<service>.<field>`: the text starts with that path, as the report has always shown it. */
export function policyField(service: string): At {
  return (id, field, message) => ({ id, path: ["policies", service, ...field.split(".")], text: `policies.${service}.${field}: ${message}` });
}

/** attempts × perTryTimeout at or beyond this multiple of the timeout is "far beyond". */
const FAR_BEYOND = 2;

export function lintPolicies(scenario: ResolvedScenario): PlanWarning[] {
  const out: PlanWarning[] = [];
  const traffic = trafficModel(scenario);
  for (const dest of scenario.services) {
    const policy = scenario.policies[dest.name];
    if (!policy) continue;
    const callers = scenario.services.filter((s) => s.calls.includes(dest.name));
    if (callers.length === 0) continue;
    const at = policyField(dest.name);
    out.push(...lintTimeouts(policy, at));
    out.push(
      ...(scenario.load.model === "open"
        ? lintOpenBreaker(policy, at, Math.max(0, ...callers.map((c) => traffic.perSidecarRate(c.name) * c.calls.filter((x) => x === dest.name).length)), worstLatencyMs(scenario, dest.name))
        : lintBreaker(policy, at, scenario.load.connections)),
    );
    out.push(...lintOutlier(policy, at, dest.replicas, scenario.load.durationMs));
    out.push(...lintBudget(policy, at, callers.map((c) => traffic.perSidecarRate(c.name))));
    out.push(...lintHealth(policy, at, scenario.load.durationMs));
  }
  return out;
}

function lintTimeouts(p: ResolvedPolicy, at: At): PlanWarning[] {
  const out: PlanWarning[] = [];
  const r = p.retries;
  if (!r) return out;
  const perTry = r.perTryTimeoutMs;
  // A timeout not longer than one try is reported, located, by the scenario cross-checks.
  if (perTry !== null && p.timeoutMs > perTry && r.attempts > 1 && r.attempts * perTry >= FAR_BEYOND * p.timeoutMs) {
    const fit = Math.ceil(p.timeoutMs / perTry);
    out.push(
      at("retry-tries-beyond-timeout", "retries", `${r.attempts} attempts × perTryTimeout ${ms(perTry)} = ${ms(r.attempts * perTry)} is far beyond ` +
        `the timeout ${ms(p.timeoutMs)}: when tries time out, at most ${fit} of them start before the timeout ends the request`),
    );
  }
  if (perTry === null && r.attempts > 1 && r.retryOn.includes("timeout")) {
    out.push(
      at("retry-timeout-without-per-try", "retries.retryOn", `"timeout" without a perTryTimeout never retries: each try may use the whole ` +
        `timeout ${ms(p.timeoutMs)}, so one that times out leaves no time for another`),
    );
  }
  return out;
}

function lintBreaker(p: ResolvedPolicy, at: At, connections: number): PlanWarning[] {
  const out: PlanWarning[] = [];
  const cb = p.circuitBreaker;
  if (!cb) return out;
  // Each load connection carries one request at a time, and the fixture calls its callees one
  // after the other: no caller's sidecar ever has more than load.connections calls in flight.
  if (cb.maxConnections !== null && cb.maxConnections >= connections) {
    out.push(
      at("breaker-never-reached", "circuitBreaker.maxConnections", `${cb.maxConnections} can never be reached at this load: at most ` +
        `${connections} requests are in flight at once (load.connections), so the breaker never trips`),
    );
  } else if (cb.maxConnections !== null && cb.maxPending !== null && cb.maxConnections + cb.maxPending >= connections) {
    out.push(
      at("breaker-pending-never-overflows", "circuitBreaker.maxPending", `${cb.maxPending} can never overflow at this load: at most ` +
        `${connections - cb.maxConnections} requests ever wait (load.connections ${connections} − maxConnections ${cb.maxConnections})`),
    );
  }
  if (cb.maxPending !== null && cb.maxConnections === null) {
    out.push(at("breaker-pending-inert", "circuitBreaker.maxPending", `has no effect without maxConnections: nothing ever waits for a connection`));
  }
  return out;
}

/**
 * An open load does not back off, so what reaches a breaker is set by the arrival rate and how long
 * each call takes (Little's law: in flight = rate × latency), not by a connection count. The
 * estimate takes the busiest caller's sidecar, the callee's slowest latency under the scenario's
 * faults, and three standard deviations of Poisson-like arrivals on top: if even that stays under
 * a limit, the limit never acts.
 */
function lintOpenBreaker(p: ResolvedPolicy, at: At, ratePerSidecar: number, latencyMs: number): PlanWarning[] {
  const out: PlanWarning[] = [];
  const cb = p.circuitBreaker;
  if (!cb) return out;
  const latency = Math.min(p.timeoutMs, latencyMs);
  const mean = (ratePerSidecar * latency) / 1000;
  const peak = Math.ceil(mean + 3 * Math.sqrt(mean) + 1);
  const how = `about ${round(mean)} requests are in flight from the busiest caller's sidecar (${round(ratePerSidecar)} req/s × ${ms(latency)}, its slowest under the scenario's faults), ${peak} at a peak`;
  if (cb.maxConnections !== null && cb.maxConnections >= peak) {
    out.push(at("breaker-never-reached", "circuitBreaker.maxConnections", `${cb.maxConnections} can never be reached at this load: ${how}, so the breaker never trips`));
  } else if (cb.maxConnections !== null && cb.maxPending !== null && cb.maxConnections + cb.maxPending >= peak) {
    out.push(at("breaker-pending-never-overflows", "circuitBreaker.maxPending", `${cb.maxPending} can never overflow at this load: ${how}, within maxConnections ${cb.maxConnections} + maxPending ${cb.maxPending}`));
  }
  if (cb.maxPending !== null && cb.maxConnections === null) {
    out.push(at("breaker-pending-inert", "circuitBreaker.maxPending", `has no effect without maxConnections: nothing ever waits for a connection`));
  }
  return out;
}

/** Per hop the sidecars add about this much (two proxies): small beside any service time, but not zero. */
const HOP_MS = 1;

/**
 * The slowest a call to `service` can take under the scenario's faults: its own slowest service
 * time, each of its calls in turn (each capped by that callee's timeout), and the worst fault on
 * it — a delay adds its longest delay, a hang (blackhole, pause, partition) lasts until a timeout
 * cuts it. Iterative over the call graph, each service once.
 */
export function worstLatencyMs(scenario: ResolvedScenario, service: string): number {
  const byName = new Map(scenario.services.map((s) => [s.name, s]));
  const memo = new Map<string, number>();
  const order: string[] = [];
  const seen = new Set<string>();
  const stack = [service];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    order.push(name);
    for (const c of byName.get(name)?.calls ?? []) stack.push(c);
  }
  // Callees before callers: a reversed DFS pre-order visits every service after those it reaches
  // in a graph without cycles (cycles are refused by validation; here they only cut the estimate).
  for (const name of order.reverse()) {
    const s = byName.get(name);
    if (!s) continue;
    const hang = Number.POSITIVE_INFINITY;
    const faultMs = Math.max(
      0,
      ...scenario.faults
        .filter((f) => f.target === name)
        .map((f) => (f.kind === "delay" ? f.delay.maxMs : FAULT_KIND_FACTS[f.kind].holds === "until-it-ends" ? hang : 0)),
    );
    const callsMs = s.calls.reduce((sum, c) => sum + Math.min(scenario.policies[c]?.timeoutMs ?? 0, (memo.get(c) ?? 0) + HOP_MS), 0);
    memo.set(name, s.latency.maxMs + callsMs + faultMs);
  }
  return memo.get(service) ?? 0;
}

function lintOutlier(p: ResolvedPolicy, at: At, replicas: number, durationMs: number): PlanWarning[] {
  const out: PlanWarning[] = [];
  const od = p.outlierDetection;
  if (!od) return out;
  // A replica is ejected only while 100 × (ejected + 1) / replicas ≤ maxEjectionPercent (Envoy ≥ 1.27).
  if (1 / replicas > od.maxEjectionPercent + 1e-9) {
    const why =
      replicas === 1
        ? "there is one replica, and ejecting it would take 100% of them out"
        : `ejecting one of ${replicas} replicas would take ${pct(1 / replicas)} out, over maxEjectionPercent ${pct(od.maxEjectionPercent)}`;
    out.push(at("ejection-impossible", "outlierDetection", `can never eject: ${why}`));
  }
  if (od.baseEjectionTimeMs >= durationMs) {
    out.push(
      at("ejection-never-returns", "outlierDetection.baseEjectionTime", `${ms(od.baseEjectionTimeMs)} is not shorter than the load ` +
        `(${ms(durationMs)}): an ejected replica never returns during the run`),
    );
  }
  return out;
}

function lintBudget(p: ResolvedPolicy, at: At, callerRates: number[]): PlanWarning[] {
  const b = p.retries?.budget;
  if (!b || !p.retries) return [];
  const retriesPerRequest = p.retries.attempts - 1;
  if (retriesPerRequest <= 0) return [at("retry-budget-unused", "retries.budget", `has nothing to limit: attempts ${p.retries.attempts} allows no retry`)];
  // Each caller's sidecar keeps its own budget; it binds only if that sidecar could retry more than it allows.
  const busiest = Math.max(0, ...callerRates);
  const maxRetries = busiest * retriesPerRequest;
  const allowed = b.ratio * busiest + b.minPerSecond;
  if (maxRetries <= allowed) {
    return [
      at("retry-budget-never-binds", "retries.budget", `can never bind at this load: the busiest caller's sidecar sends about ${round(busiest)} ` +
        `requests/s and could retry ${round(maxRetries)}/s at most, within the ${round(allowed)}/s the budget allows ` +
        `(ratio ${b.ratio} × requests + minPerSecond ${b.minPerSecond})`),
    ];
  }
  return [];
}

function lintHealth(p: ResolvedPolicy, at: At, durationMs: number): PlanWarning[] {
  const hc = p.healthCheck;
  if (!hc) return [];
  const toDown = hc.intervalMs * hc.unhealthyAfter;
  if (toDown >= durationMs) {
    return [
      at("health-check-too-slow", "healthCheck", `${hc.unhealthyAfter} failed checks every ${ms(hc.intervalMs)} take ${ms(toDown)}, not shorter ` +
        `than the load (${ms(durationMs)}): a failing replica is never taken out during the run`),
    ];
  }
  return [];
}

/**
 * Requests per second each service's sidecar sends to each callee: the fixture calls every callee
 * once per request it serves, so a service serves load.rate × (number of call paths from the load
 * target to it), spread over its replicas.
 */
function trafficModel(scenario: ResolvedScenario): { perSidecarRate(service: string): number } {
  const byName = new Map(scenario.services.map((s) => [s.name, s]));
  const paths = new Map<string, number>();
  const pathsTo = (name: string, seen: Set<string>): number => {
    if (name === scenario.load.target) return 1;
    const cached = paths.get(name);
    if (cached !== undefined) return cached;
    if (seen.has(name)) return 0;
    seen.add(name);
    let n = 0;
    for (const s of scenario.services) if (s.calls.includes(name)) n += pathsTo(s.name, seen) * s.calls.filter((c) => c === name).length;
    seen.delete(name);
    paths.set(name, n);
    return n;
  };
  return {
    perSidecarRate(service: string): number {
      const s = byName.get(service);
      if (!s) return 0;
      return (scenario.load.rate * pathsTo(service, new Set())) / Math.max(1, s.replicas);
    },
  };
}

function pct(x: number): string {
  return `${Math.round(x * 1000) / 10}%`;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
