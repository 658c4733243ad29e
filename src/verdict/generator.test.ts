import { describe, expect, it } from "vitest";
import type { CheckResult, LoadRecord } from "../model/run-report.js";
import type { ResolvedCheck } from "../scenario/types.js";
import { inconclusiveWhereGeneratorFellBehind } from "./generator.js";

const loc = { line: 1, col: 1 };
const checks: ResolvedCheck[] = [
  { kind: "slo", name: "e @ baseline", expression: { source: "error_rate < 1%", metric: { kind: "error_rate" }, op: "<", threshold: 0.01 }, window: { kind: "baseline" }, location: loc },
  { kind: "slo", name: "e @ fault:f", expression: { source: "error_rate < 1%", metric: { kind: "error_rate" }, op: "<", threshold: 0.01 }, window: { kind: "fault", fault: "f" }, location: loc },
  { kind: "property", name: "circuit_trip", property: "circuit_trip", params: { fault: "f" }, location: loc },
  { kind: "property", name: "retry_budget", property: "retry_budget", params: {}, location: loc },
];
const result = (name: string, status: CheckResult["status"], window?: string): CheckResult => ({
  name,
  kind: "slo",
  status,
  observed: 0,
  threshold: 0.01,
  unit: "fraction",
  evidence: {},
  reason: null,
  location: loc,
  ...(window ? { window } : {}),
});
const window = (keptUp: boolean) => ({ intended: 100, sent: 100, notSent: 0, lagUs: null, keptUp, reason: keptUp ? null : "its lag p99 was 3 ms, over the 1 ms it allows itself" });
const load = (faultKeptUp: boolean): LoadRecord => ({
  durationMs: 10_000,
  aborted: false,
  recorded: 1000,
  unfinished: 0,
  dropped: 0,
  staggerGroups: 0,
  model: "open",
  keptUp: faultKeptUp,
  windows: { whole: window(faultKeptUp), baseline: window(true), "fault:f": window(faultKeptUp), "recovery:f": window(true) },
});

describe("inconclusiveWhereGeneratorFellBehind", () => {
  const results = [result("e @ baseline", "passed", "baseline"), result("e @ fault:f", "failed", "fault:f"), result("circuit_trip", "passed"), result("retry_budget", "error")];

  it("makes every check over a window where the generator fell behind inconclusive — passed or failed — and keeps what it observed", () => {
    const out = inconclusiveWhereGeneratorFellBehind(results, checks, load(false));
    expect(out.map((r) => r.status)).toEqual(["passed", "inconclusive", "inconclusive", "error"]);
    expect(out[1]!.reason).toBe("the load generator could not keep up: in window fault:f its lag p99 was 3 ms, over the 1 ms it allows itself");
    expect(out[1]!.evidence).toEqual({ observedStatus: "failed" });
  });

  it("leaves everything alone when the generator kept up, for closed loads, and for reports without a per-window account", () => {
    expect(inconclusiveWhereGeneratorFellBehind(results, checks, load(true))).toEqual(results);
    expect(inconclusiveWhereGeneratorFellBehind(results, checks, { ...load(false), model: "closed", keptUp: null })).toEqual(results);
    expect(inconclusiveWhereGeneratorFellBehind(results, checks, undefined)).toEqual(results);
  });
});
