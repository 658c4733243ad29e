import { describe, expect, it } from "vitest";
import type { CheckResult, FaultRecord } from "../model/run-report.js";
import type { ResolvedCheck, WindowRef } from "../scenario/types.js";
import { inconclusiveWhereFaultsDidNotLand } from "./fault-landing.js";

const slo = (window: WindowRef): ResolvedCheck => ({
  kind: "slo",
  name: "x",
  expression: { source: "error_rate < 1%", metric: { kind: "error_rate" }, op: "<", threshold: 0.01 },
  window,
  location: { line: 1, col: 1 },
});
const result = (status: CheckResult["status"]): CheckResult => ({
  name: "x", kind: "slo", status, observed: 0, threshold: 0.01, unit: "fraction", evidence: {}, reason: null, location: { line: 1, col: 1 },
});
const fault = (name: string, appliedAt: number | null): FaultRecord => ({
  name, kind: "abort", target: "payments", replicas: [0], scheduledAt: 1000, scheduledEnd: 2000, appliedAt, revertedAt: appliedAt === null ? null : 2000,
  configuredPercent: 1, observedPercent: appliedAt === null ? null : 1, activationMs: appliedAt === null ? null : 1, eligible: appliedAt === null ? 0 : 100, affected: appliedAt === null ? 0 : 100,
  tolerance: 0.05,
});

describe("inconclusiveWhereFaultsDidNotLand", () => {
  const checks = [slo({ kind: "baseline" }), slo({ kind: "fault", fault: "a" }), slo({ kind: "recovery", fault: "b" }), slo({ kind: "whole" })];
  const results = checks.map(() => result("passed"));

  it("leaves every verdict alone when all faults landed", () => {
    expect(inconclusiveWhereFaultsDidNotLand(results, checks, [fault("a", 1000), fault("b", 1000)])).toEqual(results);
  });

  it("a fault that was never applied makes its windows and the whole load inconclusive, never passed", () => {
    const out = inconclusiveWhereFaultsDidNotLand(results, checks, [fault("a", null), fault("b", 1000)]);
    expect(out.map((c) => c.status)).toEqual(["passed", "inconclusive", "passed", "inconclusive"]);
    expect(out[1]!.reason).toMatch(/^fault a did not land: it was never applied/);
    expect(out[1]!.evidence).toMatchObject({ observedStatus: "passed" });
  });
});
