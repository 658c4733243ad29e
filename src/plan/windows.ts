import type { ResolvedScenario } from "../scenario/types.js";
import type { TimelineEntry, WindowSpan } from "./types.js";

/**
 * The windows checks are judged over, in ms from the start of load:
 * whole = the load; baseline = before the first fault (the whole load when there is none);
 * fault:x = while x is scheduled; recovery:x = from x's end to the next fault's start or the end.
 */
export function planWindows(scenario: ResolvedScenario): WindowSpan[] {
  const end = scenario.load.durationMs;
  const starts = scenario.faults.map((f) => f.atMs);
  const firstFault = starts.length ? Math.min(...starts) : end;
  const windows: WindowSpan[] = [
    { name: "whole", ref: { kind: "whole" }, start: 0, end },
    { name: "baseline", ref: { kind: "baseline" }, start: 0, end: firstFault },
  ];
  for (const f of scenario.faults) {
    const faultEnd = f.atMs + f.durationMs;
    windows.push({ name: `fault:${f.name}`, ref: { kind: "fault", fault: f.name }, start: f.atMs, end: faultEnd });
    const next = starts.filter((s) => s >= faultEnd);
    windows.push({
      name: `recovery:${f.name}`,
      ref: { kind: "recovery", fault: f.name },
      start: faultEnd,
      end: next.length ? Math.min(...next) : end,
    });
  }
  return windows;
}

/** Apply and revert entries in time order; at equal times reverts go first, so faults never stack by accident. */
export function planTimeline(scenario: ResolvedScenario): TimelineEntry[] {
  const entries: TimelineEntry[] = scenario.faults.flatMap((f) => [
    { atMs: f.atMs, action: "apply" as const, fault: f.name },
    { atMs: f.atMs + f.durationMs, action: "revert" as const, fault: f.name },
  ]);
  return entries.sort((a, b) => a.atMs - b.atMs || (a.action === b.action ? 0 : a.action === "revert" ? -1 : 1));
}
