// The load model against real pods: an open load keeps its schedule through a slow dependency, so
// the caller's breaker trips (scenarios/breaker-trips-on-slow-dependency.yaml, and the same without
// the breaker), and a freeze shows in the percentiles of every request scheduled during it, where
// a closed load hides it (fixtures/load/pause-open-vs-closed.yaml). Run ids start "dev-load-";
// each test removes what it started, whatever happens.
import { describe, expect, it } from "vitest";
import type { CheckResult, RunReport } from "../../src/model/run-report.js";
import { runScenarioFile, runsOfThisFile } from "../integration/scenario-runs.js";

const runIds = runsOfThisFile();

/** Runs a scenario file, edited by `edit` when given, under a dev-load- run id. */
async function run(path: string, variant: string, edit?: (text: string) => string): Promise<RunReport> {
  const runId = `dev-load-${variant}-${process.pid.toString(36)}`;
  runIds.push(runId);
  const report = await runScenarioFile(path, runId, edit);
  const w = report.load?.windows ?? {};
  const line = Object.entries(w).map(([n, g]) => `${n}=${g.sent}/${g.intended}${g.lagUs ? ` lag p99 ${g.lagUs.p99}µs` : ""}`).join(" ");
  console.log(`${path} [${variant}]: ${report.checks.map((c) => `${c.name}=${c.status}(${c.observed ?? "-"})`).join(" ")}; p95 ${p95(report)} µs; ${line}`);
  return report;
}

const check = (report: RunReport, name: string): CheckResult => {
  const found = report.checks.find((c) => c.name === name);
  expect(found, `no check "${name}" in ${report.checks.map((c) => c.name).join(", ")}`).toBeDefined();
  return found!;
};

/** The whole run's p95 (µs), from its SLO check. */
const p95 = (report: RunReport): number | null => report.checks.find((c) => c.expression?.startsWith("p(95)"))?.observed ?? null;

describe("open load under a slow dependency (scenarios/breaker-trips-on-slow-dependency.yaml)", () => {
  const file = "scenarios/breaker-trips-on-slow-dependency.yaml";

  it("keeps sending on schedule, so the breaker trips in time: overflow in the fault window, a clean baseline, exit 1 on the fault-window SLO", async () => {
    const report = await run(file, "as-written");
    const fault = report.load!.windows!["fault:slow-payments"]!;
    expect(fault.intended).toBe(800);
    expect(fault.sent).toBeGreaterThanOrEqual(776); // at least 97% of the window's requests went out
    expect(report.load!.keptUp).toBe(true);
    const clientFault = report.client.windows["fault:slow-payments"]!;
    expect(clientFault.errors / clientFault.requests).toBeGreaterThan(0.2);
    expect(check(report, "error_rate < 1% @ baseline").status).toBe("passed");
    expect(check(report, "error_rate < 1% @ fault:slow-payments").status).toBe("failed");
    const trip = check(report, "circuit_trip frontend → payments");
    expect(trip.status, trip.reason ?? "").toBe("passed");
    expect(trip.evidence.peakInFlightAtCallee as number).toBeLessThanOrEqual(10);
    expect(report.attribution!.byCause["breaker-overflow"]).toBe(report.client.errors);
    expect(report.verdict).toBe("failed");
    expect(report.exitCode).toBe(1);
  });

  it("without the breaker nothing is refused, every request in the fault window waits, and the latency SLO fails instead", async () => {
    const report = await run(file, "no-breaker", (t) => t.replace(/\n\s+circuitBreaker: \{[^}]*\}/, ""));
    expect(check(report, "error_rate < 1% @ fault:slow-payments").status).toBe("passed");
    expect(check(report, "p(99) < 300ms @ fault:slow-payments").status).toBe("failed");
    const trip = check(report, "circuit_trip frontend → payments");
    expect(trip.status).toBe("failed");
    expect(trip.reason).toContain("no circuitBreaker");
    expect(report.exitCode).toBe(1);
  });
});

describe("a freeze under open and under closed load (fixtures/load/pause-open-vs-closed.yaml)", () => {
  it("open: every request scheduled during the 2 s freeze waits for it (p95 ≥ 700 ms); closed with 8 connections hides it (small p95)", async () => {
    const file = "fixtures/load/pause-open-vs-closed.yaml";
    const open = await run(file, "open");
    const closed = await run(file, "closed", (t) => t.replace("model: open", "model: closed\n  connections: 8"));
    expect(p95(open)!).toBeGreaterThanOrEqual(700_000);
    expect(p95(closed)!).toBeLessThan(100_000);
    // The open load sent the freeze's 200 requests; the closed one stalled with it.
    const freezeOpen = open.load!.windows!["fault:freeze"]!;
    const freezeClosed = closed.load!.windows!["fault:freeze"]!;
    expect(freezeOpen.sent).toBeGreaterThanOrEqual(194);
    expect(freezeClosed.sent).toBeLessThan(50);
    expect(freezeClosed.intended).toBe(200);
  });
});
