import { describe, expect, it } from "vitest";
import type { FaultRecord } from "../model/run-report.js";
import { binomialTolerance, faultLanded } from "./landed.js";

const record = (over: Partial<FaultRecord>): FaultRecord => ({
  name: "payments-abort",
  kind: "abort",
  target: "payments",
  replicas: [0],
  scheduledAt: 1000,
  scheduledEnd: 3000,
  appliedAt: 1002,
  revertedAt: 3001,
  configuredPercent: 0.5,
  observedPercent: 0.5,
  activationMs: 3,
  eligible: 400,
  affected: 200,
  pods: ["payments-0"],
  observedBy: "tagged",
  ...over,
});

describe("binomialTolerance", () => {
  it("is 4σ of the proportion plus 1/n", () => {
    expect(binomialTolerance(0.5, 400)).toBeCloseTo(4 * 0.025 + 1 / 400, 10);
    expect(binomialTolerance(1, 50)).toBeCloseTo(0.02, 10);
    expect(binomialTolerance(0.3, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("faultLanded", () => {
  it("lands when the observed share is within the binomial tolerance of the configured percent", () => {
    expect(faultLanded(record({ observedPercent: 0.44, affected: 176 }))).toEqual({ landed: true, reason: null });
    expect(faultLanded(record({ configuredPercent: 1, observedPercent: 49 / 50, eligible: 50, affected: 49 }))).toEqual({ landed: true, reason: null });
  });

  it("does not land when the share is off, with the numbers", () => {
    expect(faultLanded(record({ observedPercent: 0.3, affected: 120 }))).toEqual({
      landed: false,
      reason:
        "fault payments-abort did not land: it affected 30% of 400 requests (120), configured 50%; the binomial tolerance at this count is ±10.25%",
    });
    expect(faultLanded(record({ configuredPercent: 1, observedPercent: 0.9, eligible: 100, affected: 90 })).landed).toBe(false);
  });

  it("does not land when it failed, was never applied, saw no traffic or affected nothing", () => {
    expect(faultLanded(record({ error: "apply failed: payments-0: haproxy answered \"ERR\"" })).reason).toBe(
      'fault payments-abort did not land: apply failed: payments-0: haproxy answered "ERR"',
    );
    expect(faultLanded(record({ appliedAt: null })).reason).toMatch(/never applied/);
    expect(faultLanded(record({ observedPercent: null, eligible: 0, affected: 0 })).reason).toBe(
      "fault payments-abort did not land: no request reached payments-0 while it was on, so nothing shows it acting",
    );
    expect(faultLanded(record({ configuredPercent: 0.01, observedPercent: 0, eligible: 50, affected: 0 })).reason).toMatch(
      /none of the 50 requests that reached payments-0 was affected \(configured 1%\)/,
    );
  });

  it("an installed-only fault (bandwidth) lands when it was applied without error", () => {
    const bw = record({ kind: "bandwidth", observedBy: "installed", observedPercent: null, eligible: 0, affected: 0, configuredPercent: 1 });
    expect(faultLanded(bw)).toEqual({ landed: true, reason: null });
    expect(faultLanded({ ...bw, error: "apply failed: tc" }).landed).toBe(false);
  });

  it("a header match without counters lands when it affected any request", () => {
    expect(faultLanded(record({ observedPercent: null, eligible: 7, affected: 7 }))).toEqual({ landed: true, reason: null });
  });

  it("reads records from older reports (no observedBy) as tagged", () => {
    const { observedBy: _o, pods: _p, ...old } = record({});
    expect(faultLanded(old as FaultRecord)).toEqual({ landed: true, reason: null });
    expect(faultLanded({ ...(old as FaultRecord), observedPercent: null, eligible: 0, affected: 0 }).reason).toMatch(/reached payments while/);
  });
});
