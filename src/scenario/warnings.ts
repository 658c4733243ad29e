// Every warning meshquake's plan can give, by a stable id. A warning names where it points (a
// document path, located like an error) and is silenced by the scenario's `acknowledge:` list
// when its author has read it and accepts it: the shipped examples validate without noise, and a
// new warning still shows. The ids are a contract, like the scenario's keys: add, never rename.
import type { DocPath } from "./locate.js";
import { formatPath } from "./finding.js";

export const WARNINGS = {
  // What the data plane cannot express exactly.
  "retry-attempts-zero": "retries.attempts 0 is read as a single try",
  "per-try-timeout-cut": "retries.perTryTimeout is longer than the timeout, so each try is cut at the timeout",
  "retry-5xx-statuses": "retryOn 5xx retries statuses 500-504 only",
  "retry-429-after-delay": "retryOn 429 retries only a 429 whose Retry-After is delta-seconds and ends before the timeout",
  "retry-status-unsupported": "a retryOn status the proxy cannot retry is ignored",
  "retry-nothing-retriable": "retries with nothing the proxy can retry on",
  "retry-previous-host": "a retry avoids only the replica the previous try used",
  "retry-budget-unused": "a retry budget with nothing to limit",
  "retry-budget-at-start": "the retry budget is checked when a request starts, so it can overshoot by a few",
  "breaker-per-replica": "circuitBreaker.maxConnections is split per replica",
  "breaker-pending-inert": "circuitBreaker.maxPending has no effect without maxConnections",
  "breaker-pending-zero": "circuitBreaker.maxPending 0 behaves as 1",
  "ejection-with-health-check": "an ejected replica stays out for its ejection time even if health checks pass",
  "least-request-all-replicas": "least-request compares every replica, not two random picks",
  "route-retry-any-version": "a retry of a routed request may go to another version",
  "peak-ewma-retries-by-load": "with peak-ewma, a retry's replica is chosen by load, not latency",
  "grpc-retry-http-status": "an HTTP retry condition on a grpc service does not retry gRPC failures",
  "grpc-retry-trailers": "a gRPC status sent in trailers (after a message) is not retried",
  // Settings that cannot act at the scenario's own load and topology.
  "retry-tries-beyond-timeout": "attempts × perTryTimeout is far beyond the timeout",
  "retry-timeout-without-per-try": 'retryOn "timeout" without a perTryTimeout never retries',
  "breaker-never-reached": "circuitBreaker.maxConnections can never be reached at this load",
  "breaker-pending-never-overflows": "circuitBreaker.maxPending can never overflow at this load",
  "ejection-impossible": "outlier detection can never eject a replica",
  "ejection-never-returns": "an ejected replica never returns during the run",
  "retry-budget-never-binds": "the retry budget can never bind at this load",
  "health-check-too-slow": "a failing replica is never taken out during the run",
  // Faults placed where the mesh cannot react or the fault cannot land.
  "fault-at-ingress": "a fault on the service the load generator calls directly",
  "match-header-not-forwarded": "a fault matches a header the caller does not forward",
  "h2-reset-not-retried": "a reset on an HTTP/2 service reaches the caller's app unretried",
  // The acknowledgements themselves.
  "acknowledgement-unused": "an acknowledgement that matches no warning",
} as const;

export type WarningId = keyof typeof WARNINGS;
export const WARNING_IDS = Object.keys(WARNINGS) as WarningId[];

/** One warning of a plan: what it is, where in the scenario it points, and what it says. */
export interface PlanWarning {
  id: WarningId;
  /** Where it points in the scenario document (a policy field, a fault). */
  path: DocPath;
  /** The whole sentence, as the report's `warnings` list holds it. */
  text: string;
}

/** `acknowledge:` in a scenario: a warning id, everywhere or only under one document path. */
export interface Acknowledgement {
  warning: WarningId;
  /** A path prefix such as "policies.payments"; null for everywhere. */
  at: string | null;
}

/** Whether `ack` silences `w`: same id, and `at` (when given) names `w`'s path or a parent of it. */
export function acknowledges(ack: Acknowledgement, w: PlanWarning): boolean {
  if (ack.warning !== w.id) return false;
  if (ack.at === null) return true;
  const path = formatPath(w.path);
  return path === ack.at || path.startsWith(`${ack.at}.`) || path.startsWith(`${ack.at}[`);
}

/**
 * The warnings no acknowledgement silences, and one more for each acknowledgement that silenced
 * nothing (a stale one would hide the next warning of its kind without anyone noticing).
 */
export function applyAcknowledgements(
  warnings: readonly PlanWarning[],
  acks: readonly Acknowledgement[],
): { shown: PlanWarning[]; acknowledged: PlanWarning[] } {
  const used = new Set<number>();
  const shown: PlanWarning[] = [];
  const acknowledged: PlanWarning[] = [];
  for (const w of warnings) {
    const i = acks.findIndex((a) => acknowledges(a, w));
    if (i < 0) shown.push(w);
    else {
      acknowledged.push(w);
      for (const [j, a] of acks.entries()) if (acknowledges(a, w)) used.add(j);
    }
  }
  for (const [i, a] of acks.entries()) {
    if (used.has(i)) continue;
    const where = a.at === null ? "" : ` at ${a.at}`;
    shown.push({
      id: "acknowledgement-unused",
      path: ["acknowledge", i],
      text: `acknowledge[${i}]: ${a.warning}${where} matches no warning of this scenario; remove it so it cannot hide a future one`,
    });
  }
  return { shown, acknowledged };
}
