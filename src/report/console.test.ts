import { describe, expect, it } from "vitest";
import type { ResolvedScenario } from "../scenario/types.js";
import { buildReport } from "./build-report.js";
import { renderConsoleSummary } from "./console.js";
import type { CheckResult, RunReport } from "../model/run-report.js";

const scenario: ResolvedScenario = {
  name: "checkout-survives-payment-aborts",
  description: "Payments aborts half its calls.",
  seed: 42,
  dataPlane: "haproxy",
  source: { file: "scenarios/checkout.yaml", text: "" },
  services: [],
  policies: {},
  load: { target: "frontend", rate: 200, model: "closed", arrivals: "constant", connections: 16, maxInFlight: 16, timeoutMs: 10_000, maxLagMs: 10, durationMs: 60_000, protocol: "http", requests: [], grpc: null },
  faults: [],
  checks: [],
};

const at = { line: 1, col: 1 };
const CHECKS: CheckResult[] = [
  {
    name: "error_rate < 1% @ fault:payments-abort",
    kind: "slo",
    status: "failed",
    expression: "error_rate < 1%",
    window: "fault:payments-abort",
    observed: 0.0312,
    threshold: 0.01,
    unit: "fraction",
    evidence: { requests: 4000, errors: 125 },
    reason: null,
    location: at,
  },
  {
    name: "p(99) < 800ms @ whole",
    kind: "slo",
    status: "passed",
    expression: "p(99) < 800ms",
    window: "whole",
    observed: 612_345,
    threshold: 800_000,
    unit: "us",
    evidence: {},
    reason: null,
    location: at,
  },
  {
    name: "p(99.9) < 1s @ baseline",
    kind: "slo",
    status: "inconclusive",
    expression: "p(99.9) < 1s",
    window: "baseline",
    observed: 45_000,
    threshold: 1_000_000,
    unit: "us",
    evidence: {},
    reason: "p(99.9) needs at least 1000 requests to differ from the maximum; window baseline (0–5000 ms) has 990",
    location: at,
  },
  {
    name: "retry_amplification checkout->payments",
    kind: "property",
    status: "passed",
    property: "retry_amplification",
    observed: 1.2,
    threshold: 1.5,
    unit: "ratio",
    evidence: {},
    reason: null,
    location: at,
  },
  {
    name: "ejection payments[0]",
    kind: "property",
    status: "error",
    property: "ejection",
    observed: null,
    threshold: 3000,
    unit: "ms",
    evidence: {},
    reason: 'no evaluator for property "ejection" was given to this run',
    location: at,
  },
];

function report(): RunReport {
  return buildReport({
    runId: "mq-7f3a",
    toolVersion: "0.1.0",
    startedAt: "2025-01-02T03:04:05.000Z",
    scenario,
    checks: CHECKS,
    windows: [],
    faults: [
      {
        name: "payments-abort",
        kind: "abort",
        target: "payments",
        replicas: [0],
        scheduledAt: 10_000,
        scheduledEnd: 30_000,
        appliedAt: 10_012,
        revertedAt: 30_004,
        configuredPercent: 0.5,
        observedPercent: 0.487,
        activationMs: 4,
        eligible: 4000,
        affected: 1948,
      },
      {
        name: "slow-payments",
        kind: "delay",
        target: "payments",
        replicas: [],
        scheduledAt: 40_000,
        scheduledEnd: 50_000,
        appliedAt: null,
        revertedAt: null,
        configuredPercent: 1,
        observedPercent: null,
        activationMs: null,
        eligible: 0,
        affected: 0,
      },
    ],
    client: {
      requests: 12_000,
      errors: 50,
      statusCounts: { "200": 11_950, "503": 50 },
      latencyUs: { p50: 4_100, p90: 9_000, p99: 812_300, p999: 950_000, max: 1_200_000 },
      timeline: [],
      windows: {},
    },
    edges: [],
    replicas: [],
    errors: [{ stage: "faults", message: "slow-payments: runtime API of payments-0 did not answer within 2s" }],
    warnings: ["payments-abort: 3 of 4000 requests were answered before the fault took effect"],
    timings: { setupMs: 1, runMs: 2, teardownMs: 3 },
    environment: { node: "v20", platform: "linux-x64", docker: null, dataPlane: "haproxy", image: null },
    load: { durationMs: 60_000, aborted: false, recorded: 12_000, unfinished: 3, dropped: 0, staggerGroups: 16 },
  });
}

describe("renderConsoleSummary", () => {
  it("renders verdict, client totals, checks with reasons, faults, errors and warnings", () => {
    expect(renderConsoleSummary(report(), { color: false })).toMatchInlineSnapshot(`
      "meshquake  checkout-survives-payment-aborts  ERROR  exit 3  run mq-7f3a
      client  12000 requests  50 errors (0.42%)  p50 4.1ms  p99 812.3ms
              3 requests still in flight at the end (not counted)

      check                                   observed  threshold  verdict
      error_rate < 1% @ fault:payments-abort  3.12%     < 1%       failed
      p(99) < 800ms @ whole                   612.3ms   < 800ms    passed
      p(99.9) < 1s @ baseline                 45.0ms    < 1s       inconclusive
          reason: p(99.9) needs at least 1000 requests to differ from the maximum; window baseline (0–5000 ms) has 990
      retry_amplification checkout->payments  1.20      1.50       passed
      ejection payments[0]                    -         3s         error
          reason: no evaluator for property "ejection" was given to this run

      fault           kind   target       applied      reverted  affected / configured
      payments-abort  abort  payments[0]  10.01s       30.00s    48.7% / 50%
      slow-payments   delay  payments     not applied  -         n/a / 100%

      harness errors
        [faults] slow-payments: runtime API of payments-0 did not answer within 2s

      warnings
        payments-abort: 3 of 4000 requests were answered before the fault took effect
      "
    `);
  });

  it("colours only when asked, without moving a column", () => {
    const plain = renderConsoleSummary(report(), { color: false });
    const coloured = renderConsoleSummary(report(), { color: true });
    expect(plain).not.toContain("\u001b[");
    expect(coloured).toContain("\u001b[31mfailed\u001b[39m");
    expect(coloured.replace(/\u001b\[\d+m/g, "")).toBe(plain);
  });

  it("says when there is nothing to judge", () => {
    const r = { ...report(), checks: [], faults: [], errors: [], warnings: [] };
    expect(renderConsoleSummary(r, { color: false })).toContain("no checks: nothing to judge");
  });
});
