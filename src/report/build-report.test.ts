import { describe, expect, it } from "vitest";
import type { ResolvedScenario } from "../scenario/types.js";
import { buildReport, type ReportParts } from "./build-report.js";
import type { CheckResult, ClientStats } from "../model/run-report.js";

const scenario: ResolvedScenario = {
  name: "payments-abort",
  description: "",
  seed: 1,
  dataPlane: "haproxy",
  source: { file: "scenarios/payments-abort.yaml", text: "name: payments-abort\n" },
  services: [],
  policies: {},
  load: { target: "frontend", rate: 100, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [], grpc: null },
  faults: [],
  checks: [],
};

const client: ClientStats = {
  requests: 0,
  errors: 0,
  statusCounts: {},
  latencyUs: { p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
  timeline: [],
  windows: {},
};

const check = (status: CheckResult["status"]): CheckResult => ({
  name: `check ${status}`,
  kind: "slo",
  status,
  expression: "error_rate < 1%",
  window: "whole",
  observed: 0,
  threshold: 0.01,
  unit: "fraction",
  evidence: {},
  reason: null,
  location: { line: 1, col: 1 },
});

function parts(overrides: Partial<ReportParts> = {}): ReportParts {
  return {
    runId: "mq-1a2b3c",
    toolVersion: "0.1.0",
    startedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    scenario,
    checks: [],
    windows: [{ name: "whole", start: 0, end: 10_000 }],
    faults: [],
    client,
    edges: [],
    replicas: [],
    errors: [],
    warnings: [],
    timings: { setupMs: 1200.4, runMs: 10_050.6, teardownMs: 300 },
    environment: { node: "v20.20.0", platform: "linux-x64", docker: "20.10.24", dataPlane: "haproxy", image: null },
    ...overrides,
  };
}

describe("buildReport", () => {
  it("assembles a schemaVersion 1 report and derives verdict and exit code", () => {
    const report = buildReport(parts({ checks: [check("passed"), check("inconclusive")] }));
    expect(report).toMatchObject({
      schemaVersion: 1,
      tool: { name: "meshquake", version: "0.1.0" },
      runId: "mq-1a2b3c",
      startedAt: "2025-01-02T03:04:05.000Z",
      verdict: "inconclusive",
      exitCode: 4,
      timings: { setupMs: 1200, runMs: 10_051, teardownMs: 300, steps: {} },
    });
    expect(report).not.toHaveProperty("load");
  });

  it("passes a run without checks, and lets harness errors outrank everything", () => {
    expect(buildReport(parts())).toMatchObject({ verdict: "passed", exitCode: 0 });
    const errored = buildReport(parts({ checks: [check("failed")], errors: [{ stage: "runtime", message: "boom" }] }));
    expect(errored).toMatchObject({ verdict: "error", exitCode: 3 });
    expect(buildReport(parts({ checks: [check("failed"), check("passed")] }))).toMatchObject({ verdict: "failed", exitCode: 1 });
  });

  it("records exit code 130 for an interrupted run, whatever the verdict", () => {
    const report = buildReport(parts({ interrupted: true, errors: [{ stage: "run", message: "interrupted" }] }));
    expect(report).toMatchObject({ verdict: "error", exitCode: 130 });
  });

  it("keeps only name, start and end of plan windows, and does not share arrays with its inputs", () => {
    const input = parts({
      windows: [{ name: "whole", start: 0, end: 10_000, ref: { kind: "whole" } } as never],
      warnings: ["w"],
      load: { durationMs: 10_000, aborted: false, recorded: 990, unfinished: 2, dropped: 0, staggerGroups: 8 },
    });
    const report = buildReport(input);
    expect(report.windows).toEqual([{ name: "whole", start: 0, end: 10_000 }]);
    expect(report.load).toEqual(input.load);
    report.warnings.push("x");
    expect(input.warnings).toEqual(["w"]);
  });
});
