// Outlier ejections and health-check changes, as the callers' sidecars logged them, turned into
// per-replica intervals and changes for the report. Pure: no I/O. Each caller's sidecar keeps its
// own view (as each Envoy does), so a replica can be out of one caller's rotation and in another's.
import type { MeshEvent, PolicyEvent } from "../dataplane/types.js";
import type { ReplicaStats } from "../model/run-report.js";

export interface Ejection {
  /** The replica, "<service>-<index>". */
  replica: string;
  /** The caller pod whose sidecar ejected it. */
  by: string;
  /** Milliseconds from the start of load. */
  at: number;
  /** Re-admission, or null when it was still out at the end of the log. */
  until: number | null;
  /** When the ejection time was due to end (re-admission follows at the next sweep). */
  plannedUntil: number;
  /** Ejections in a row (the ejection time is baseEjectionTime times this). */
  count: number;
}

export interface HealthChange {
  replica: string;
  by: string;
  at: number;
  healthy: boolean;
  check: string;
}

const isPolicyEvent = (e: MeshEvent): e is PolicyEvent => e.kind !== "attempt";

/** Every ejection, paired with the re-admission that ended it, in time order. */
export function ejections(events: readonly MeshEvent[], loadStartEpochMs: number): Ejection[] {
  const open = new Map<string, Ejection>();
  const out: Ejection[] = [];
  const ordered = events.filter(isPolicyEvent).sort((a, b) => a.ts - b.ts);
  for (const e of ordered) {
    const replica = `${e.route}-${e.replica}`;
    const key = `${e.pod}>${replica}`;
    if (e.kind === "ejection") {
      const ej: Ejection = {
        replica,
        by: e.pod,
        at: e.ts - loadStartEpochMs,
        until: null,
        plannedUntil: e.untilTs - loadStartEpochMs,
        count: e.count,
      };
      open.set(key, ej);
      out.push(ej);
    } else if (e.kind === "readmission") {
      const ej = open.get(key);
      if (ej) {
        ej.until = e.ts - loadStartEpochMs;
        open.delete(key);
      }
    }
  }
  return out;
}

export function healthChanges(events: readonly MeshEvent[], loadStartEpochMs: number): HealthChange[] {
  return events
    .filter(isPolicyEvent)
    .filter((e): e is Extract<PolicyEvent, { kind: "health" }> => e.kind === "health")
    .sort((a, b) => a.ts - b.ts)
    .map((e) => ({ replica: `${e.route}-${e.replica}`, by: e.pod, at: e.ts - loadStartEpochMs, healthy: e.healthy, check: e.check }));
}

/** Ejections a caller did not make because maxEjectionPercent was reached, per replica. */
export function skippedEjections(events: readonly MeshEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.kind === "ejection-skipped") out.set(`${e.route}-${e.replica}`, (out.get(`${e.route}-${e.replica}`) ?? 0) + 1);
  }
  return out;
}

/**
 * ReplicaStats with `ejections`, `ejectionsSkipped` and `healthChanges` filled in from the events.
 * Ejections that began before `loadStartEpochMs` are kept (negative `at`): they still shaped the run.
 */
export function withPolicyEvents(replicas: readonly ReplicaStats[], events: readonly MeshEvent[], loadStartEpochMs: number): ReplicaStats[] {
  const ej = ejections(events, loadStartEpochMs);
  const hc = healthChanges(events, loadStartEpochMs);
  const skipped = skippedEjections(events);
  return replicas.map((r) => {
    const id = `${r.service}-${r.index}`;
    const mine = ej.filter((e) => e.replica === id);
    const changes = hc.filter((h) => h.replica === id);
    return {
      ...r,
      ejections: [...r.ejections, ...mine.map(({ at, until, by, count }) => ({ at, until, by, count }))],
      ...(skipped.has(id) ? { ejectionsSkipped: skipped.get(id)! } : {}),
      ...(changes.length ? { healthChanges: changes.map(({ at, healthy, by, check }) => ({ at, healthy, by, check })) } : {}),
    };
  });
}
