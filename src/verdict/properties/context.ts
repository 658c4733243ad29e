// What a property check is judged on: everything the run observed, in one read-only bundle, and
// the small helpers every property shares. Times are ms from the start of load.
import type { AccessLogEntry, MeshEvent } from "../../dataplane/types.js";
import type { ClientSeries } from "../../observe/client-recorder.js";
import type {
  CheckResult,
  CheckStatus,
  ClientStats,
  EdgeStats,
  FailureAttribution,
  FaultRecord,
  MeshTimeline,
  ReplicaStats,
  WindowRecord,
} from "../../model/run-report.js";
import type { Endpoint, PropertyCheck, ResolvedFault, ResolvedScenario, SloExpression } from "../../scenario/types.js";

export interface PropertyContext {
  scenario: ResolvedScenario;
  windows: readonly WindowRecord[];
  faults: readonly FaultRecord[];
  client: ClientStats;
  /** The client's fine series (100 ms slots), with counts against every latency threshold the checks need. */
  series: ClientSeries;
  edges: readonly EdgeStats[];
  replicas: readonly ReplicaStats[];
  meshTimeline: MeshTimeline | null;
  /** Sidecar access-log entries and mesh events (tries, ejections), epoch ms. */
  entries: Iterable<AccessLogEntry>;
  events: Iterable<MeshEvent>;
  loadStartEpochMs: number;
  /** How long the load really ran (it may stop early). */
  loadDurationMs: number;
  attribution: FailureAttribution | null;
  /** What each failed client request attribution examined was put down to; null or absent when attribution did not run. */
  blamed?: readonly BlamedFailure[] | null;
}

/** One failed client request and the pod attribution blamed (src/observe/attribution.ts, FailureBlame). */
export interface BlamedFailure {
  /** ms from the start of load, as the client recorder has it. */
  startMs: number;
  pod: string | null;
  cause: string;
  fault: string | null;
}

/** A property check's parameters, typed (resolve.ts keeps them in PropertyCheck.params). */
export interface PropertyParams {
  edge?: { from: string; to: string };
  target?: Endpoint;
  fault?: string;
  withinMs?: number;
  max?: number;
  min?: number;
  slos?: SloExpression[];
  path?: string;
  tolerance?: number;
  version?: string;
}

export function paramsOf(check: PropertyCheck): PropertyParams {
  return check.params as PropertyParams;
}

/** What a property evaluator returns: the verdict's parts, and the faults it was judged over. */
export interface PropertyOutcome {
  status: CheckStatus;
  observed: number | null;
  threshold: number | null;
  unit: string;
  evidence: Record<string, unknown>;
  reason: string | null;
  /** Faults whose landing the verdict depends on; "all" for checks over the whole load. */
  dependsOn: readonly string[] | "all";
  /** The window the check was judged over, when it is one of the run's named windows. */
  window?: string;
}

export type PropertyFn = (check: PropertyCheck, ctx: PropertyContext) => PropertyOutcome;

export function toCheckResult(check: PropertyCheck, outcome: PropertyOutcome): CheckResult {
  const result: CheckResult = {
    name: check.name,
    kind: "property",
    status: outcome.status,
    property: check.property,
    observed: outcome.observed === null ? null : round(outcome.observed),
    threshold: outcome.threshold === null ? null : round(outcome.threshold),
    unit: outcome.unit,
    evidence: outcome.evidence,
    reason: outcome.reason,
    location: check.location,
  };
  if (outcome.window !== undefined) result.window = outcome.window;
  return result;
}

/** Six significant digits: enough for any verdict, short in the report. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

export function findFault(ctx: PropertyContext, name: string): { record: FaultRecord; resolved: ResolvedFault } | null {
  const record = ctx.faults.find((f) => f.name === name);
  const resolved = ctx.scenario.faults.find((f) => f.name === name);
  return record && resolved ? { record, resolved } : null;
}

export const podService = (pod: string): string => pod.slice(0, pod.lastIndexOf("-"));
export const podIndex = (pod: string): number => Number(pod.slice(pod.lastIndexOf("-") + 1));

/** An outcome that could not be judged: the harness's problem or the scenario's, said plainly. */
export function errorOutcome(reason: string, evidence: Record<string, unknown> = {}): PropertyOutcome {
  return { status: "error", observed: null, threshold: null, unit: "", evidence, reason, dependsOn: [] };
}

/** The judged span as evidence: [start, end) in ms and where it comes from. */
export function spanEvidence(span: { start: number; end: number; source?: string }): Record<string, unknown> {
  return { start: Math.round(span.start), end: Math.round(span.end), ...(span.source ? { source: span.source } : {}) };
}

/** Services `from` reaches through its calls, with the path to each. */
export function dependencies(scenario: Pick<ResolvedScenario, "services">, from: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const calls = (name: string) => scenario.services.find((s) => s.name === name)?.calls ?? [];
  const walk = (name: string, path: string[]) => {
    for (const callee of calls(name)) {
      if (out.has(callee) || path.includes(callee)) continue;
      out.set(callee, [...path, callee]);
      walk(callee, [...path, callee]);
    }
  };
  walk(from, [from]);
  return out;
}

/** "1.2 s", "850 ms". */
export function ms(x: number): string {
  return Math.abs(x) >= 1000 ? `${Number((x / 1000).toFixed(2))} s` : `${Math.round(x)} ms`;
}

export function pct(fraction: number): string {
  return `${Number((fraction * 100).toFixed(2))}%`;
}
