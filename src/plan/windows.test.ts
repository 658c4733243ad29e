import { describe, expect, it } from "vitest";
import type { ResolvedFault, ResolvedScenario } from "../scenario/types.js";
import { abortFault } from "../verdict/properties/fixtures.js";
import { planTimeline, planWindows } from "./windows.js";

const fault = (name: string, atMs: number, durationMs: number): ResolvedFault => abortFault(name, "payments", atMs, durationMs);
const scenario = (faults: ResolvedFault[]) => ({ load: { durationMs: 30_000 }, faults }) as unknown as ResolvedScenario;

describe("planWindows", () => {
  it("without faults, baseline is the whole load", () => {
    expect(planWindows(scenario([]))).toEqual([
      { name: "whole", ref: { kind: "whole" }, start: 0, end: 30_000 },
      { name: "baseline", ref: { kind: "baseline" }, start: 0, end: 30_000 },
    ]);
  });

  it("baseline ends at the first fault; recovery runs to the next fault or the end", () => {
    const w = planWindows(scenario([fault("a", 10_000, 5_000), fault("b", 20_000, 2_000)]));
    const byName = Object.fromEntries(w.map((x) => [x.name, [x.start, x.end]]));
    expect(byName).toEqual({
      whole: [0, 30_000],
      baseline: [0, 10_000],
      "fault:a": [10_000, 15_000],
      "recovery:a": [15_000, 20_000],
      "fault:b": [20_000, 22_000],
      "recovery:b": [22_000, 30_000],
    });
  });
});

describe("planTimeline", () => {
  it("orders entries by time with reverts before applies at the same instant", () => {
    const t = planTimeline(scenario([fault("b", 5_000, 5_000), fault("a", 0, 5_000)]));
    expect(t).toEqual([
      { atMs: 0, action: "apply", fault: "a" },
      { atMs: 5_000, action: "revert", fault: "a" },
      { atMs: 5_000, action: "apply", fault: "b" },
      { atMs: 10_000, action: "revert", fault: "b" },
    ]);
  });
});
