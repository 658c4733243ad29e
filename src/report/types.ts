// RunReport: the one versioned artefact. Every reporter reads only this; `meshquake report`
// re-renders from it. Times are milliseconds from the start of load, latencies microseconds,
// rates and percents fractions. Extend it; never rename or drop a field (schemaVersion 1).
import type { ResolvedScenario, SourceLocation } from "../scenario/types.js";

export type Verdict = "passed" | "failed" | "inconclusive" | "error";
export type CheckStatus = Verdict;

export interface HarnessError {
  /** Pipeline stage that failed: "scenario" | "images" | "runtime" | "faults" | "load" | "observe" | "verdict" | "report" | "teardown". */
  stage: string;
  message: string;
}

export interface CheckResult {
  name: string;
  kind: "slo" | "property";
  status: CheckStatus;
  /** The SLO expression as written (slo checks). */
  expression?: string;
  /** The property name (property checks). */
  property?: string;
  window?: string;
  observed: number | null;
  threshold: number | null;
  /** "fraction" | "us" | "ms" | "ratio" — how observed and threshold are to be read. */
  unit: string;
  evidence: Record<string, unknown>;
  reason: string | null;
  location: SourceLocation;
}

export interface WindowRecord {
  name: string;
  start: number;
  end: number;
}

export interface FaultRecord {
  name: string;
  kind: string;
  target: string;
  replicas: number[];
  scheduledAt: number;
  scheduledEnd: number;
  appliedAt: number | null;
  revertedAt: number | null;
  configuredPercent: number;
  observedPercent: number | null;
  /** Apply → first affected response seen in the sidecar logs. */
  activationMs: number | null;
  /** Requests that reached the fault's targets while it was active, and how many it affected. */
  eligible: number;
  affected: number;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface TimelinePoint {
  /** Second since the start of load. */
  t: number;
  requests: number;
  errors: number;
  latencyUs: { p50: number; p90: number; p99: number };
}

export interface ClientStats {
  requests: number;
  errors: number;
  /** HTTP status → count; transport failures under "timeout" and "error". */
  statusCounts: Record<string, number>;
  latencyUs: LatencySummary;
  timeline: TimelinePoint[];
  /** Per window: requests, errors and an HDR histogram of latencies (µs), compressed base64. */
  windows: Record<string, { requests: number; errors: number; latencyUs: LatencySummary; histogram: string }>;
}

export interface EdgeStats {
  from: string;
  to: string;
  /** Logical requests the caller sent (the caller's outbound log). */
  requests: number;
  /** Tries that reached the callee, retries included (the callee's inbound log). */
  attempts: number;
  retries: number;
  /** Final status the caller got → count. */
  statusCounts: Record<string, number>;
  /** Callee replica index → attempts it received from this caller. */
  byReplica: Record<string, number>;
}

export interface ReplicaStats {
  service: string;
  index: number;
  /** Requests that reached this replica's inbound side. */
  requests: number;
  statusCounts: Record<string, number>;
  ejections: { at: number; until: number | null }[];
}

/** How the load generator ran: what the client numbers cannot show by themselves. */
export interface LoadRecord {
  /** From the start of load until it stopped starting recorded requests (shorter when aborted). */
  durationMs: number;
  aborted: boolean;
  /** Requests recorded in `client`. */
  recorded: number;
  /** Started before the end but still in flight when the load stopped: not in `client`. */
  unfinished: number;
  /** Written by autocannon into connections the server had announced it would close: never reached it. */
  dropped: number;
  /** Autocannon instances started 1/n s apart to spread each second's requests. */
  staggerGroups: number;
}

export interface RunReport {
  schemaVersion: 1;
  tool: { name: "meshquake"; version: string };
  runId: string;
  /** ISO time at which load started (the zero of every relative time). */
  startedAt: string;
  scenario: ResolvedScenario;
  verdict: Verdict;
  exitCode: number;
  errors: HarnessError[];
  timings: { setupMs: number; runMs: number; teardownMs: number; steps: Record<string, number> };
  checks: CheckResult[];
  windows: WindowRecord[];
  faults: FaultRecord[];
  client: ClientStats;
  edges: EdgeStats[];
  replicas: ReplicaStats[];
  warnings: string[];
  environment: { node: string; platform: string; docker: string | null; dataPlane: string; image: string | null };
  /** Added after the first reports: absent when the run never started load, or in older reports. */
  load?: LoadRecord;
}
