// The load model against real pods: an open load keeps its schedule through a slow dependency, so
// the caller's breaker trips (scenarios/breaker-trips-on-slow-dependency.yaml, and the same without
// the breaker), and a freeze shows in the percentiles of every request scheduled during it, where
// a closed load hides it (fixtures/load/pause-open-vs-closed.yaml). Run ids start "dev-load-";
// each test removes what it started, whatever happens.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckResult, RunReport } from "../../src/report/types.js";
import { runScenario } from "../../src/run/run-scenario.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "../integration/docker-env.js";

const docker = testDocker();
const runIds: string[] = [];

beforeAll(async () => {
  await testImage();
});

afterAll(async () => {
  for (const id of runIds) {
    await cleanLeftovers(docker, id);
    expect(await labelled(docker, id)).toEqual({ containers: 0, networks: 0 });
  }
});

/** Runs a scenario file, edited by `edit` when given, under a dev-load- run id. */
async function run(path: string, variant: string, edit?: (text: string) => string): Promise<RunReport> {
  const original = await readFile(join(PROJECT_ROOT, path), "utf8");
  const text = edit ? edit(original) : original;
  if (edit) expect(text, `the ${variant} edit changed nothing`).not.toBe(original);
  const { scenario, problems } = parseScenario(path, text);
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  const runId = `dev-load-${variant}-${process.pid.toString(36)}`;
  runIds.push(runId);
  try {
    const report = await runScenario(scenario!, {
      docker,
      dockerVersion: "test",
      image: await testImage(),
      log: () => {},
      signal: new AbortController().signal,
      runId,
      toolVersion: "test",
    });
    expect(report.errors).toEqual([]);
    const w = report.load?.windows ?? {};
    const line = Object.entries(w).map(([n, g]) => `${n}=${g.sent}/${g.intended}${g.lagUs ? ` lag p99 ${g.lagUs.p99}µs` : ""}`).join(" ");
    console.log(`${path} [${variant}]: ${report.checks.map((c) => `${c.name}=${c.status}(${c.observed ?? "-"})`).join(" ")}; p95 ${p95(report)} µs; ${line}`);
    return report;
  } finally {
    await cleanLeftovers(docker, runId);
    expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
  }
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
