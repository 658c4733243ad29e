import { describe, expect, it } from "vitest";
import type { FaultTiming } from "../faults/scheduler.js";
import type { ResolvedFault } from "../scenario/types.js";
import { injectedDuring } from "./injected-during.js";

const fault = (name: string): ResolvedFault =>
  ({ name, kind: "abort", target: "payments", replicas: [0], from: null, match: null, probability: 1, atMs: 0, durationMs: 3_600_000, location: { line: 40, col: 5 }, status: 503 }) as ResolvedFault;
const timing = (name: string, on: number, off: number | null): FaultTiming =>
  ({ name, applySentAt: on, appliedAt: on + 5, revertSentAt: off, revertedAt: off === null ? null : off + 5, error: null, startEpochMs: on, untilEpochMs: on + 3_600_000, armedAt: null, pods: ["payments-0"], evidence: [], counters: null, revertedBy: null }) as FaultTiming;

describe("faults injected during a mesh's run", () => {
  it("are the run's faults from apply to revert (or the load's end), by their last injection, without a file line", () => {
    const T = 1_000_000;
    const history = [
      { fault: fault("before"), timing: timing("before", T - 5000, T - 1000) },
      { fault: fault("slow"), timing: timing("slow", T + 2000, T + 4000) },
      { fault: fault("left-on"), timing: timing("left-on", T + 1000, null) },
      { fault: fault("slow"), timing: timing("slow", T + 6000, T + 7000) },
      { fault: fault("after"), timing: timing("after", T + 20_000, null) },
    ];
    const during = injectedDuring(history, T, T + 10_000, 10_000);
    expect(during.map((d) => [d.fault.name, d.fault.atMs, d.fault.durationMs, d.fault.location.line])).toEqual([
      ["slow", 6000, 1000, 0],
      ["left-on", 1000, 9000, 0],
    ]);
    expect(during.find((d) => d.fault.name === "left-on")!.timing.untilEpochMs).toBe(T + 10_000);
  });
});
