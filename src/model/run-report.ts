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
  // Added with issue 4 (absent in older reports). Times are ms from the start of load.
  /** When the apply and the revert were sent (appliedAt/revertedAt: when each was confirmed). */
  applySentAt?: number | null;
  revertSentAt?: number | null;
  /** The scheduled end handed to the dead-man switch. */
  until?: number | null;
  /** When a fault sent ahead of its start was confirmed set (the proxy then started it at scheduledAt). */
  armedAt?: number | null;
  /** Who switched it off: the timeline at its end, or the teardown (end of load, failure, signal). */
  revertedBy?: "schedule" | "teardown" | null;
  /** What went wrong applying or reverting it, or null. */
  error?: string | null;
  /** Pods it was installed in ("<service>-<index>"). */
  pods?: string[];
  /** How observedPercent was read: tagged | partition | refused | stalled | installed (see src/faults/observe.ts). */
  observedBy?: string;
  /** "log", "proxy-counters" (header matches) or "none". */
  observedSource?: string;
  /** Why observedPercent is null (or how it was read), when there is something to say. */
  observationNote?: string | null;
  /** Largest |observedPercent − configuredPercent| consistent with the configured percent (binomial). */
  tolerance?: number | null;
  /** Whether it acted as configured (faultLanded); checks in its windows are inconclusive when not. */
  landed?: boolean;
  landedReason?: string | null;
  /** What the harness saw once it was on: proxy replies, iptables rules, tc qdisc, container state. */
  evidence?: string[];
  /** What the proxy counted while it was on (runtime faults, when the data plane reports it). */
  proxyCounters?: { seen: number; hits: number } | null;
  /** What ends it if the harness dies. */
  deadMan?: string;
  /** How repeatable its per-request decisions are with the same seed. */
  determinism?: string;
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
  /**
   * Per window: requests, errors and an HDR histogram of latencies (µs), compressed base64.
   * `notSent` (added with issue 10): requests the open load could not send, counted in requests
   * and errors but not in the histogram (they have no latency; percentile checks count them as
   * slower than any threshold).
   */
  windows: Record<string, { requests: number; errors: number; notSent?: number; latencyUs: LatencySummary; histogram: string }>;
  /**
   * Added with issue 5: per request path of the load's mix (when it has more than one path), the
   * same per-window statistics; what isolation checks by path judge.
   */
  paths?: Record<string, { requests: number; errors: number; windows: ClientStats["windows"] }>;
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
  // Per-try observation from the caller's sidecars (src/observe/attempts.ts); absent in older
  // reports and for data planes that do not log tries.
  /** Callee replica index → tries the caller's sidecars sent it, retries and tries that never reached it included. */
  attemptsByReplica?: Record<string, number>;
  /** Retries a request needed → requests: {"0": 950, "1": 40, "2": 10}. */
  retriesPerRequest?: Record<string, number>;
  /** The most tries any one request made. */
  maxAttemptsPerRequest?: number;
  /** Why requests ended (TerminationCause, e.g. "ok", "overflow", "retries-exhausted") → requests. */
  terminations?: Record<string, number>;
  /** How tries ended (AttemptOutcome, e.g. "ok", "upstream-error", "per-try-timeout") → tries. */
  attemptOutcomes?: Record<string, number>;
  /** Retries sent to another replica than the try before them, and to the same one. */
  failover?: { otherReplica: number; sameReplica: number };
  /** Requests that started with the retry budget spent, so they could not be retried. */
  budgetDenied?: number;
  /** A few retried requests, try by try: which replica answered each try and how. */
  examples?: AttemptTrace[];
}

export interface AttemptTrace {
  /** Milliseconds from the start of load. */
  at: number;
  /** The caller pod. */
  pod: string;
  requestId: string;
  status: number;
  cause: string;
  attempts: { replica: number; status: number; outcome: string; durationMs: number }[];
}

export interface ReplicaStats {
  service: string;
  index: number;
  /** The version it runs, when its service has versions. */
  version?: string;
  /** Requests that reached this replica's inbound side. */
  requests: number;
  statusCounts: Record<string, number>;
  /**
   * Times this replica was out of rotation by outlier detection. Each caller's sidecar ejects on
   * its own (as each Envoy does): `by` names the caller pod, `count` the ejections in a row.
   */
  ejections: { at: number; until: number | null; by?: string; count?: number }[];
  /** Ejections a caller's sidecar did not make because maxEjectionPercent was reached. */
  ejectionsSkipped?: number;
  /** Active health-check state changes, as each caller's sidecar saw them. */
  healthChanges?: { at: number; healthy: boolean; by: string; check: string }[];
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
  /** Autocannon instances started 1/n s apart to spread each second's requests (closed load; 0 for open). */
  staggerGroups: number;
  // Added with issue 10 (absent in older reports, whose load was always closed).
  /** open: every request sent at its due time whatever the system did; closed: a pool of connections backing off. */
  model?: "open" | "closed";
  /** Added with gRPC load: "grpc" for a gRPC load (gRPC calls over HTTP/2); absent for HTTP. */
  protocol?: "grpc";
  /** Open load: how requests were spaced. */
  arrivals?: "constant" | "poisson";
  rate?: number;
  /** Open load: the cap on requests (and connections) in flight. */
  maxInFlight?: number;
  /** Connections the generator opened (open) or kept (closed). */
  connections?: number;
  /** Requests due by the schedule (open), or what the rate asked for (closed). */
  intended?: number;
  /** Requests that left the generator. */
  sent?: number;
  /** Open load: requests not sent because maxInFlight requests were already in flight (failures for the SLOs). */
  notSent?: number;
  /** Open load: the generator's own delay, actual send time minus due time (µs). */
  lagUs?: LagSummary | null;
  /** Open load: how the generator's threads were scheduled: realtime (SCHED_FIFO), nice (-10) or normal. */
  scheduling?: "realtime" | "nice" | "normal";
  /** Open load: the lag p99 above which a window's checks cannot be judged (µs). */
  lagToleranceUs?: number;
  perSecond?: LoadSecond[];
  /** Per window (as in `windows[]`): what was intended and sent, and whether the generator kept up. */
  windows?: Record<string, GeneratorWindow>;
  /** Open load: whether the generator kept its schedule in every window; null for a closed load. */
  keptUp?: boolean | null;
}

export interface LagSummary {
  p50: number;
  p99: number;
  max: number;
}

export interface LoadSecond {
  t: number;
  intended: number;
  sent: number;
  notSent: number;
  lagUs: LagSummary | null;
}

export interface GeneratorWindow {
  intended: number;
  sent: number;
  notSent: number;
  lagUs: LagSummary | null;
  /** Open load: false when the generator fell behind here (its checks are inconclusive); null for a closed load. */
  keptUp: boolean | null;
  reason: string | null;
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
  /** Per-second series from the sidecar logs (absent in older reports). */
  meshTimeline?: MeshTimeline;
  /** Added with issue 5: every failed client request traced to a cause (absent when nothing ran). */
  attribution?: FailureAttribution;
  /** Added with issue 5: `run --repeat N`: the aggregate over the runs, in the last run's report. */
  repeat?: RepeatSummary;
}

/**
 * Why failed client requests failed: each one's x-request-id joined with the sidecars' logs and
 * followed hop by hop to the deepest hop that failed (src/observe/attribution.ts).
 */
export interface FailureAttribution {
  /** Failed client requests, those whose ids were kept (the rest only counted), and those found in the mesh's logs. */
  failed: number;
  examined: number;
  notKept: number;
  traced: number;
  /** Cause → failed requests (AttributionCause); "unattributed" when the logs could not say. */
  byCause: Record<string, number>;
  /** The edge where each failure was decided ("client" → ingress for failures before the mesh). */
  byEdge: { from: string; to: string; failed: number; byCause: Record<string, number> }[];
  /** Injected fault → failed requests it took part in (on the failed path). */
  byFault: Record<string, number>;
  /** For retries exhausted or a spent budget: what the last try hit → requests. */
  byLastTry: Record<string, number>;
  /** A few failures per cause, hop by hop. */
  examples: AttributedFailure[];
  /** How the join was made and what it could not see. */
  notes: string[];
}

export interface AttributedFailure {
  requestId: string | null;
  /** ms from the start of load. */
  at: number;
  clientStatus: string;
  cause: string;
  edge: { from: string; to: string } | null;
  fault: string | null;
  lastTry: string | null;
  /** The pods the failure travelled through, ingress first. */
  hops: string[];
  detail: string;
}

/** `run --repeat N`: per check, how often it passed and confidence intervals for its key measure. */
export interface RepeatSummary {
  runs: number;
  /** Runs a check must pass in to pass the gate (N unless --quorum). */
  quorum: number;
  /** Run ids and verdicts, in order. */
  reports: { runId: string; verdict: Verdict; exitCode: number }[];
  checks: RepeatCheck[];
  /** The gate's verdict over the runs (checks judged by quorum; a harness error in any run is an error). */
  verdict: Verdict;
  exitCode: number;
  method: string;
}

export interface RepeatCheck {
  name: string;
  kind: "slo" | "property";
  statuses: CheckStatus[];
  passed: number;
  failed: number;
  inconclusive: number;
  error: number;
  /** Wilson score interval (95%) of the pass rate. */
  passRate: { estimate: number; low: number; high: number };
  /** The observed values over the runs where there was one, with a 95% interval of their mean. */
  observed: { unit: string; values: number[]; mean: number | null; low: number | null; high: number | null; method: string } | null;
  /** passed: passed in at least `quorum` runs; failed: could not reach it because of breaches; inconclusive otherwise. */
  gate: CheckStatus;
}

/** One second of one edge: logical requests the caller sent, tries that reached the callee, retries, failed requests. */
export interface EdgeSecond {
  t: number;
  requests: number;
  attempts: number;
  retries: number;
  errors: number;
}

export interface MeshTimeline {
  edges: { from: string; to: string; points: EdgeSecond[] }[];
  /** Requests reaching each replica's inbound side per second (traffic share, ejection, failover). */
  replicas: { service: string; index: number; requests: number[] }[];
}
