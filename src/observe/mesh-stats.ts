import type { AccessLogEntry } from "../dataplane/types.js";
import type { FaultTiming } from "../faults/scheduler.js";
import { faultPods } from "../faults/targets.js";
import type { EdgeStats, FaultRecord, ReplicaStats } from "../report/types.js";
import type { ResolvedScenario } from "../scenario/types.js";

/** A request-level view of the mesh during load: sidecar access-log entries from [start, end) epoch ms. */
export interface MeshLog {
  entries: AccessLogEntry[];
  loadStartEpochMs: number;
}

const podService = (pod: string) => pod.slice(0, pod.lastIndexOf("-"));
const podIndex = (pod: string) => Number(pod.slice(pod.lastIndexOf("-") + 1));

function count(map: Record<string, number>, key: string | number): void {
  map[key] = (map[key] ?? 0) + 1;
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
      count(edge.statusCounts, e.status);
    } else if (e.from) {
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
      replicas.set(`${s.name}-${index}`, { service: s.name, index, requests: 0, statusCounts: {}, ejections: [] });
    }
  }
  for (const e of log.entries) {
    if (e.direction !== "inbound") continue;
    const r = replicas.get(e.pod);
    if (!r) continue;
    r.requests++;
    count(r.statusCounts, e.status);
  }
  return [...replicas.values()];
}

/**
 * What each fault really did: when it was switched, the share of eligible requests it affected
 * (requests reaching its target replicas from the selected caller while it was on) and how long
 * after the apply the first affected response appeared.
 */
export function faultRecords(scenario: ResolvedScenario, timings: FaultTiming[], log: MeshLog): FaultRecord[] {
  const rel = (t: number | null) => (t === null ? null : t - log.loadStartEpochMs);
  return scenario.faults.map((f) => {
    const t = timings.find((x) => x.name === f.name);
    const pods = new Set(faultPods(f));
    // Eligible: accepted after every target acknowledged the apply and before the revert was
    // sent, so the few ms the switch takes count toward activation latency, not against the share.
    const sent = t?.applySentAt ?? null;
    const on = t?.appliedAt ?? null;
    const off = t?.revertSentAt ?? (on === null ? null : Number.POSITIVE_INFINITY);
    let eligible = 0;
    let affected = 0;
    let firstAffected: number | null = null;
    if (on !== null && off !== null) {
      for (const e of log.entries) {
        if (e.direction !== "inbound" || !pods.has(e.pod)) continue;
        if (f.from !== null && e.from !== f.from) continue;
        if (e.fault === f.name && e.ts >= sent! && (firstAffected === null || e.ts < firstAffected)) firstAffected = e.ts;
        if (e.ts <= on || e.ts >= off) continue;
        eligible++;
        if (e.fault === f.name) affected++;
      }
    }
    return {
      name: f.name,
      kind: f.kind,
      target: f.target,
      replicas: f.replicas,
      scheduledAt: f.atMs,
      scheduledEnd: f.atMs + f.durationMs,
      appliedAt: rel(t?.appliedAt ?? null),
      revertedAt: rel(t?.revertedAt ?? null),
      configuredPercent: f.probability,
      observedPercent: eligible ? affected / eligible : null,
      activationMs: firstAffected !== null && sent !== null ? Math.max(0, firstAffected - sent) : null,
      eligible,
      affected,
    };
  });
}
