import { grpcStatusName } from "../model/grpc-status.js";
import type { AccessLogEntry } from "../dataplane/types.js";
import type { FaultTiming } from "../faults/scheduler.js";
import { binomialTolerance, faultLanded } from "../faults/landed.js";
import { observeFault } from "../faults/observe.js";
import { faultPods, replicaCounter } from "../faults/targets.js";
import type { EdgeStats, FaultRecord, ReplicaStats } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { versionOf } from "../scenario/version-of.js";

/** A request-level view of the mesh during load: sidecar access-log entries from [start, end) epoch ms. */
export interface MeshLog {
  entries: Iterable<AccessLogEntry>;
  loadStartEpochMs: number;
}

const podService = (pod: string) => pod.slice(0, pod.lastIndexOf("-"));
const podIndex = (pod: string) => Number(pod.slice(pod.lastIndexOf("-") + 1));

function count(map: Record<string, number>, key: string | number): void {
  map[key] = (map[key] ?? 0) + 1;
}

/** A status count's key: a gRPC answer's status name when the sidecar saw one, else its HTTP status. */
function statusKey(e: AccessLogEntry): string {
  return e.grpcStatus === undefined ? String(e.status) : grpcStatusName(e.grpcStatus);
}

/** Per caller→callee edge: logical requests from the caller's outbound log, attempts from the callee's inbound log. */
export function edgeStats(scenario: ResolvedScenario, log: MeshLog): EdgeStats[] {
  const edges = new Map<string, EdgeStats>();
  for (const s of scenario.services) {
    for (const to of s.calls) {
      edges.set(`${s.name}>${to}`, { from: s.name, to, requests: 0, attempts: 0, retries: 0, statusCounts: {}, byReplica: {} });
    }
  }
  for (const e of log.entries) {
    if (e.direction === "outbound") {
      const edge = edges.get(`${podService(e.pod)}>${e.route}`);
      if (!edge) continue;
      edge.requests++;
      edge.retries += e.retries;
      count(edge.statusCounts, statusKey(e));
    } else if (e.from && !e.healthCheck) {
      const edge = edges.get(`${e.from}>${podService(e.pod)}`);
      if (!edge) continue;
      edge.attempts++;
      count(edge.byReplica, podIndex(e.pod));
    }
  }
  return [...edges.values()];
}

/** Per replica: requests that reached its inbound side, by status. */
export function replicaStats(scenario: ResolvedScenario, log: MeshLog): ReplicaStats[] {
  const replicas = new Map<string, ReplicaStats>();
  for (const s of scenario.services) {
    for (let index = 0; index < s.replicas; index++) {
      const version = versionOf(s, index)?.name;
      replicas.set(`${s.name}-${index}`, { service: s.name, index, ...(version ? { version } : {}), requests: 0, statusCounts: {}, ejections: [] });
    }
  }
  for (const e of log.entries) {
    if (e.direction !== "inbound" || e.healthCheck) continue;
    const r = replicas.get(e.pod);
    if (!r) continue;
    r.requests++;
    count(r.statusCounts, statusKey(e));
  }
  return [...replicas.values()];
}

/**
 * What each fault really did: when it was switched (sent and confirmed, on and off), the share of
 * eligible requests it affected as the sidecar logs show it (src/faults/observe.ts: each kind
 * leaves its own trace), how long after the apply the first affected request appeared, and
 * whether it landed as configured (src/faults/landed.ts).
 */
export function faultRecords(scenario: ResolvedScenario, timings: FaultTiming[], log: MeshLog): FaultRecord[] {
  const rel = (t: number | null | undefined) => (t === null || t === undefined ? null : t - log.loadStartEpochMs);
  const replicasOf = replicaCounter(scenario);
  return scenario.faults.map((f) => {
    const t = timings.find((x) => x.name === f.name);
    const o = observeFault(f, t, log.entries, replicasOf);
    const record: FaultRecord = {
      name: f.name,
      kind: f.kind,
      target: f.target,
      replicas: f.replicas,
      scheduledAt: f.atMs,
      scheduledEnd: f.atMs + f.durationMs,
      appliedAt: rel(t?.appliedAt),
      revertedAt: rel(t?.revertedAt),
      configuredPercent: f.probability,
      observedPercent: o.observedPercent,
      activationMs: o.activationMs,
      eligible: o.eligible,
      affected: o.affected,
      applySentAt: rel(t?.applySentAt),
      revertSentAt: rel(t?.revertSentAt),
      until: rel(t?.untilEpochMs),
      armedAt: rel(t?.armedAt),
      revertedBy: t?.revertedBy ?? null,
      error: t?.error ?? null,
      pods: t?.pods ?? faultPods(f),
      observedBy: o.observedBy,
      observedSource: o.source,
      tolerance: o.observedPercent === null ? null : binomialTolerance(f.probability, o.eligible),
      evidence: t?.evidence ?? [],
      proxyCounters: t?.counters ?? null,
      deadMan: t?.deadMan,
      determinism: t?.determinism,
    };
    const { landed, reason } = faultLanded(record);
    return { ...record, landed, landedReason: reason, observationNote: o.note };
  });
}
