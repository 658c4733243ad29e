// Test support: a small, deterministic simulation of a meshed run that writes what the real one
// writes — sidecar access-log entries, tries, client samples — so the properties and the
// attribution can be tested without Docker, on the same data shapes. Not used by the product.
import type { AccessLogEntry, AttemptEntry, MeshEvent, TerminationCause } from "../../dataplane/types.js";
import { attributeFailures, attributionFaults } from "../../observe/attribution.js";
import { ClientRecorder, type ClientSample } from "../../observe/client-recorder.js";
import { recorderPlan } from "../../plan/recorder-plan.js";
import { planWindows } from "../../plan/windows.js";
import type { FaultRecord, ReplicaStats } from "../../model/run-report.js";
import type { ResolvedFault, ResolvedPolicy, ResolvedScenario, ResolvedService, ResolvedVersion, SloExpression } from "../../scenario/types.js";
import { parseSloExpression } from "../../scenario/slo-expression.js";
import { versionOf } from "../../scenario/version-of.js";
import type { BlamedFailure, PropertyContext } from "./context.js";
import { shiftsOf, splitPeriods } from "./shifts.js";
import { mulberry32 } from "../../util/seeded-random.js";

export const T0 = 1_700_000_000_000;

const PLAIN: ResolvedPolicy = { timeoutMs: 30_000, retries: null, circuitBreaker: null, outlierDetection: null, loadBalancer: "round-robin", healthCheck: null, rateLimit: null };

export function service(name: string, calls: string[] = [], replicas = 1, latencyMs = 1): ResolvedService {
  return { name, replicas, calls, latency: { minMs: latencyMs, maxMs: latencyMs }, errorRate: 0, port: 8080, health: "/healthz" };
}

export function policy(p: Partial<ResolvedPolicy> & { attempts?: number } = {}): ResolvedPolicy {
  const { attempts, ...rest } = p;
  return {
    ...PLAIN,
    ...(attempts !== undefined ? { retries: { attempts, perTryTimeoutMs: null, retryOn: ["5xx"], budget: null } } : {}),
    ...rest,
  };
}

export function scenario(partial: Partial<ResolvedScenario> & Pick<ResolvedScenario, "services">): ResolvedScenario {
  const policies: Record<string, ResolvedPolicy> = {};
  for (const s of partial.services) policies[s.name] = partial.policies?.[s.name] ?? PLAIN;
  return {
    name: "sim",
    description: "",
    seed: 1,
    dataPlane: "haproxy",
    source: { file: "sim.yaml", text: "" },
    faults: [],
    checks: [],
    load: { target: partial.services[0]!.name, rate: 100, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }], grpc: null },
    ...partial,
    policies,
  };
}

export const slo = (text: string): SloExpression => parseSloExpression(text);

/** What a replica does with one try at time t (ms from load start): null = its normal answer. */
export type Behaviour = (service: string, replica: number, t: number, random: () => number) => { status: number; fault?: string; delayMs?: number } | null;

export interface SimOptions {
  /** Client requests per second, sent evenly. */
  rate?: number;
  behave?: Behaviour;
  /** Replicas out of a caller pod's rotation at time t. */
  out?: (callerPod: string, service: string, replica: number, t: number) => boolean;
  seed?: number;
  /** Client requests sent at these times only (ms), instead of an even rate. */
  times?: number[];
}

export interface SimRun {
  entries: AccessLogEntry[];
  events: MeshEvent[];
  samples: ClientSample[];
}


/** Plays the scenario's load through its call graph and policies (retries, timeouts, rotation). */
export function simulate(sc: ResolvedScenario, options: SimOptions = {}): SimRun {
  const random = mulberry32(options.seed ?? 1);
  const entries: AccessLogEntry[] = [];
  const events: MeshEvent[] = [];
  const samples: ClientSample[] = [];
  const rr = new Map<string, number>();
  const ids = new Map<string, number>();
  const byName = new Map(sc.services.map((s) => [s.name, s]));

  /** A try arriving at a replica: its inbound entry, its calls, its answer. */
  const serve = (pod: string, t: number, traceId: string, caller: { pod: string; requestId: string } | null): { status: number; durationMs: number } => {
    const name = pod.slice(0, pod.lastIndexOf("-"));
    const replica = Number(pod.slice(pod.lastIndexOf("-") + 1));
    const s = { ...byName.get(name)!, ...versionOf(byName.get(name)!, replica) };
    const behaviour = options.behave?.(name, replica, t, random) ?? null;
    let status = 200;
    let durationMs = s.latency.minMs + (behaviour?.delayMs ?? 0);
    let fault: string | null = behaviour?.fault ?? null;
    if (behaviour && behaviour.status !== 200) status = behaviour.status;
    else {
      if (random() < s.errorRate) status = 500;
      for (const callee of status === 200 ? s.calls : []) {
        const r = call(pod, callee, t + durationMs, traceId);
        durationMs += r.durationMs;
        if (r.status >= 500) {
          status = 502;
          break;
        }
      }
    }
    if (behaviour?.delayMs && behaviour.status === 200) fault = behaviour.fault ?? null;
    entries.push({
      ts: T0 + t,
      pod,
      direction: "inbound",
      route: name,
      from: caller ? caller.pod.slice(0, caller.pod.lastIndexOf("-")) : null,
      upstream: null,
      status,
      durationMs: Math.round(durationMs),
      retries: 0,
      termination: "----",
      fault,
      faults: fault ? [fault] : [],
      fromReplica: caller ? Number(caller.pod.slice(caller.pod.lastIndexOf("-") + 1)) : null,
      requestId: caller?.requestId ?? null,
      healthCheck: false,
      traceId,
    });
    return { status, durationMs };
  };

  /** A call from a pod's app through its sidecar: tries, retries, timeout. */
  const call = (pod: string, callee: string, t: number, traceId: string): { status: number; durationMs: number } => {
    const p = sc.policies[callee] ?? PLAIN;
    const attempts = p.retries?.attempts ?? 1;
    const n = (ids.get(pod) ?? 0) + 1;
    ids.set(pod, n);
    const requestId = `${pod}.${n}`;
    const replicas = byName.get(callee)!.replicas;
    let elapsed = 0;
    let last: { status: number; replica: number; fault: string | null } | null = null;
    let tries = 0;
    let cause: TerminationCause = "ok";
    for (let k = 0; k < attempts; k++) {
      // A split picks a version per try (weighted, at random), then round-robin within it.
      const version = pickVersion(callee, t + elapsed);
      const pool = version ? version.replicas : Array.from({ length: replicas }, (_, i) => i);
      const key = `${pod}>${callee}>${version?.name ?? ""}`;
      let replica = -1;
      for (let j = 0; j < pool.length; j++) {
        const cand = pool[((rr.get(key) ?? 0) + j) % pool.length]!;
        if (!options.out?.(pod, callee, cand, t + elapsed)) {
          replica = cand;
          rr.set(key, ((rr.get(key) ?? 0) + j + 1) % pool.length);
          break;
        }
      }
      if (replica < 0) {
        cause = "no-healthy-replica";
        last = { status: 503, replica: -1, fault: null };
        break;
      }
      const at = t + elapsed;
      const r = serve(`${callee}-${replica}`, at, traceId, { pod, requestId });
      tries++;
      const cut = elapsed + r.durationMs > p.timeoutMs;
      const tryDuration = cut ? p.timeoutMs - elapsed : r.durationMs;
      const status = cut ? 504 : r.status;
      const fault = entries.at(-1)?.fault ?? null;
      const outcome = cut ? "overall-timeout" : status >= 500 ? (fault ? "injected-fault" : "upstream-error") : "ok";
      const attempt: AttemptEntry = { kind: "attempt", ts: T0 + at, pod, route: callee, replica, requestId, status, durationMs: tryDuration, outcome, fault: status >= 400 ? fault : null, termination: "----" };
      events.push(attempt);
      elapsed += tryDuration;
      last = { status, replica, fault: attempt.fault };
      if (cut) {
        cause = "overall-timeout";
        break;
      }
      if (status < 500) {
        cause = "ok";
        break;
      }
      cause = k === attempts - 1 ? (attempts > 1 ? "retries-exhausted" : fault ? "injected-fault" : "upstream-error") : "ok";
    }
    const status = last?.status ?? 503;
    entries.push({
      ts: T0 + t,
      pod,
      direction: "outbound",
      route: callee,
      from: pod.slice(0, pod.lastIndexOf("-")),
      upstream: last && last.replica >= 0 ? `${callee}-${last.replica}` : null,
      status,
      durationMs: Math.round(elapsed),
      retries: Math.max(0, tries - 1),
      termination: "----",
      fault: last?.fault ?? null,
      faults: last?.fault ? [last.fault] : [],
      requestId,
      maxAttempts: attempts,
      cause: status < 500 ? "ok" : cause,
      budgetDenied: false,
      traceId,
    });
    return { status, durationMs: elapsed };
  };

  /** The version a split in force at t sends a try to (the policy's or a shift's, by schedule); null without a split. */
  const periods = new Map(sc.services.map((s) => [s.name, splitPeriods(sc.policies[s.name]?.split ?? {}, shiftsOf(sc, s.name), [], sc.load.durationMs)]));
  const pickVersion = (callee: string, t: number): ResolvedVersion | null => {
    const s = byName.get(callee)!;
    const period = periods.get(callee)!.find((p) => t >= p.start && t < p.end) ?? periods.get(callee)!.at(-1);
    if (!s.versions?.length || !period || Object.keys(period.shares).length === 0) return null;
    let x = random();
    for (const v of s.versions) {
      x -= period.shares[v.name] ?? 0;
      if (x < 0) return v;
    }
    return [...s.versions].reverse().find((v) => (period.shares[v.name] ?? 0) > 0) ?? null;
  };

  const ingress = byName.get(sc.load.target)!;
  const times = options.times ?? evenTimes(options.rate ?? sc.load.rate, sc.load.durationMs);
  times.forEach((t, i) => {
    const pod = `${ingress.name}-${i % ingress.replicas}`;
    const id = `c-${i}`;
    const r = serve(pod, t, id, null);
    samples.push({ startUs: t * 1000, latencyUs: (r.durationMs + 0.5) * 1000, status: r.status, id, path: sc.load.requests[i % sc.load.requests.length]?.path ?? "/" });
  });
  return { entries, events, samples };
}

function evenTimes(rate: number, durationMs: number): number[] {
  const n = Math.floor((rate * durationMs) / 1000);
  return Array.from({ length: n }, (_, i) => (i * 1000) / rate);
}

/** A fault record as faultRecords would write it for a fault that landed. */
export function landedFault(name: string, startMs: number, endMs: number, over: Partial<FaultRecord> = {}): FaultRecord {
  return {
    name,
    kind: "abort",
    target: "payments",
    replicas: [0],
    scheduledAt: startMs,
    scheduledEnd: endMs,
    appliedAt: startMs,
    revertedAt: endMs,
    configuredPercent: 1,
    observedPercent: 1,
    activationMs: 1,
    eligible: 100,
    affected: 100,
    until: endMs,
    landed: true,
    landedReason: null,
    ...over,
  };
}

/** The PropertyContext of a simulated run, as run-scenario builds it. */
export function contextOf(sc: ResolvedScenario, run: SimRun, extra: Partial<PropertyContext> = {}): PropertyContext {
  const windows = planWindows(sc);
  const recorder = new ClientRecorder(windows, recorderPlan(sc).client);
  for (const s of run.samples) recorder.record(s);
  const replicas: ReplicaStats[] = sc.services.flatMap((s) =>
    Array.from({ length: s.replicas }, (_, index) => ({ service: s.name, index, requests: 0, statusCounts: {}, ejections: [] })),
  );
  return {
    scenario: sc,
    windows,
    faults: sc.faults.map((f) => landedFault(f.name, f.atMs, f.atMs + f.durationMs, { kind: f.kind, target: f.target, replicas: f.replicas })),
    client: recorder.stats(),
    series: recorder.series(sc.load.durationMs),
    edges: [],
    replicas,
    meshTimeline: null,
    entries: run.entries,
    events: run.events,
    loadStartEpochMs: T0,
    loadDurationMs: sc.load.durationMs,
    attribution: null,
    blamed: blamedFailures(sc, recorder, run),
    ...extra,
  };
}

/** What attribution puts each failed client request of a simulated run down to, as judge-run collects it. */
function blamedFailures(sc: ResolvedScenario, recorder: ClientRecorder, run: SimRun): BlamedFailure[] {
  const blamed: BlamedFailure[] = [];
  attributeFailures({
    scenario: sc,
    failed: recorder.failed(),
    entries: run.entries,
    events: run.events,
    loadStartEpochMs: T0,
    faults: attributionFaults(sc.faults, [], sc),
    onExplained: (f, blame) => blamed.push({ startMs: f.startMs, ...blame }),
  });
  return blamed;
}

/** A shift of payments' split (`kind: shift`), as it will resolve; not a FaultKind yet, hence the cast. */
export const shift = (name: string, split: Record<string, number>, atMs: number, durationMs: number): ResolvedFault =>
  ({ ...faultOn(name, "payments", atMs, durationMs, []), kind: "shift", attributes: { split } }) as unknown as ResolvedFault;

/** front → payments: v1 on replicas 0–2, v2 on 3; 100 req/s open for 20 s. */
export function canary(split: Record<string, number> | null, faults: ResolvedFault[] = [], attempts?: number): ResolvedScenario {
  const payments = service("payments", [], 4);
  payments.versions = [
    { name: "v1", replicas: [0, 1, 2], latency: payments.latency, errorRate: 0 },
    { name: "v2", replicas: [3], latency: payments.latency, errorRate: 0 },
  ];
  return scenario({
    services: [service("front", ["payments"]), payments],
    policies: { payments: policy({ split, ...(attempts ? { attempts } : {}) }) },
    faults,
    load: { target: "front", rate: 100, model: "open", arrivals: "constant", connections: 8, maxInFlight: 64, timeoutMs: 10_000, maxLagMs: 10, durationMs: 20_000, protocol: "http", requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }], grpc: null },
  });
}

/** The fields every fault kind shares: on `target`'s `replicas` from atMs for durationMs, every request. */
export const faultOn = (name: string, target: string, atMs: number, durationMs: number, replicas = [0]) => ({
  name,
  target,
  replicas,
  from: null,
  match: null,
  probability: 1,
  atMs,
  durationMs,
  location: { line: 1, col: 1 },
});

/** An abort fault (503) on `target`'s `replicas` from atMs for durationMs. */
export const abortFault = (name: string, target: string, atMs: number, durationMs: number, replicas = [0]): ResolvedFault => ({
  ...faultOn(name, target, atMs, durationMs, replicas),
  kind: "abort",
  status: 503,
});
