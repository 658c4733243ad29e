// Shifts on the timeline (`kind: shift`: an operator's change of a service's split at runtime) and
// the split in force over time, as traffic_split and blast_radius read them.
import { faultSpan } from "../../faults/span.js";
import type { FaultRecord } from "../../model/run-report.js";
import type { ResolvedFault, ResolvedPolicy, ResolvedScenario, ResolvedService } from "../../scenario/types.js";

export interface Shift {
  name: string;
  atMs: number;
  /** Until the load ends when the scenario gave no duration. */
  durationMs: number;
  /** Share per version, fractions summing to 1. */
  split: Record<string, number>;
}

export const isShift = (f: Pick<ResolvedFault, "kind">): boolean => f.kind === "shift";

/** The shifts of `service`'s split, in timeline order. */
export function shiftsOf(scenario: Pick<ResolvedScenario, "faults">, service: string): Shift[] {
  return scenario.faults.flatMap((f) =>
    f.kind === "shift" && f.target === service ? [{ name: f.name, atMs: f.atMs, durationMs: f.durationMs, split: f.attributes.split }] : [],
  );
}

/**
 * The share of requests each version should get by the policy: its `split`, or without one every
 * replica an equal share (a version's share is its replicas over the service's).
 */
export function policyShares(service: Pick<ResolvedService, "replicas" | "versions">, policy: Pick<ResolvedPolicy, "split"> | undefined): Record<string, number> {
  const versions = service.versions ?? [];
  const split = policy?.split ?? null;
  return Object.fromEntries(versions.map((v) => [v.name, split ? (split[v.name] ?? 0) : v.replicas.length / service.replicas]));
}

/** A stretch of the load with one split in force: the policy's, or a shift's. */
export interface SplitPeriod {
  /** [start, end), ms from load start. */
  start: number;
  end: number;
  /** "policy", or the shift's name. */
  source: string;
  shares: Record<string, number>;
}

/**
 * The splits in force over [0, loadMs): the policy's, except while a shift is on (from its
 * confirmed apply to its end, as every fault's span). Where shifts overlap, the one that started
 * last is in force.
 */
export function splitPeriods(policy: Record<string, number>, shifts: readonly Shift[], records: readonly FaultRecord[], loadMs: number): SplitPeriod[] {
  const spans = shifts.map((s, order) => {
    const record = records.find((r) => r.name === s.name);
    const span = record ? faultSpan(record) : { start: s.atMs, end: s.atMs + s.durationMs };
    return { shift: s, order, start: Math.max(0, span.start), end: Math.min(loadMs, span.end) };
  });
  const cuts = [...new Set([0, loadMs, ...spans.flatMap((s) => [s.start, s.end])])].filter((t) => t >= 0 && t <= loadMs).sort((a, b) => a - b);
  const periods: SplitPeriod[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [start, end] = [cuts[i]!, cuts[i + 1]!];
    const on = spans.filter((s) => s.start <= start && start < s.end).sort((a, b) => a.start - b.start || a.order - b.order).at(-1);
    const source = on ? on.shift.name : "policy";
    const last = periods.at(-1);
    if (last && last.source === source) last.end = end;
    else periods.push({ start, end, source, shares: on ? on.shift.split : policy });
  }
  return periods;
}
