// What a run on a held-up mesh reports of the faults injected into it: those on during its load,
// as the run's own faults would be. Pure.
import type { FaultTiming } from "../faults/scheduler.js";
import type { ResolvedFault } from "../scenario/types.js";

/**
 * The injected faults that were on during a load (from `loadStart` to `loadEnd`, epoch ms), as the
 * run's own faults would be: scheduled from their apply to their revert (or the load's end), in ms
 * from the start of load. A name injected more than once counts by its last injection.
 */
export function injectedDuring(
  history: readonly { fault: ResolvedFault; timing: FaultTiming }[],
  loadStart: number,
  loadEnd: number,
  loadMs: number,
): { fault: ResolvedFault; timing: FaultTiming }[] {
  const byName = new Map<string, { fault: ResolvedFault; timing: FaultTiming }>();
  for (const { fault, timing } of history) {
    const on = timing.applySentAt;
    const off = timing.revertSentAt ?? Number.POSITIVE_INFINITY;
    if (timing.appliedAt === null || on === null || on >= loadEnd || off <= loadStart) continue;
    const atMs = Math.max(0, on - loadStart);
    const endMs = Math.min(loadMs, Math.min(off, loadEnd) - loadStart);
    // Not a line of the scenario file: no source location to point at.
    // One still on when the load ended counts as on until then (its lease runs far longer).
    const until = timing.revertSentAt === null && timing.untilEpochMs != null ? Math.min(timing.untilEpochMs, loadEnd) : timing.untilEpochMs;
    byName.set(fault.name, { fault: { ...fault, atMs, durationMs: Math.max(0, endMs - atMs), location: { line: 0, col: 0 } }, timing: { ...timing, untilEpochMs: until } });
  }
  return [...byName.values()];
}
