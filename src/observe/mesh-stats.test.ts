import { describe, expect, it } from "vitest";
import type { AccessLogEntry } from "../dataplane/types.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { edgeStats, faultRecords, replicaStats } from "./mesh-stats.js";

const scenario = {
  services: [
    { name: "checkout", replicas: 1, calls: ["payments"] },
    { name: "payments", replicas: 2, calls: [] },
  ],
  faults: [
    { name: "abort", kind: "abort", status: 503, target: "payments", replicas: [0], from: null, match: null, probability: 0.5, atMs: 1000, durationMs: 1000, location: { line: 1, col: 1 } },
  ],
} as unknown as ResolvedScenario;

const T0 = 1_700_000_000_000;
const entry = (e: Partial<AccessLogEntry>): AccessLogEntry => ({
  ts: T0,
  pod: "checkout-0",
  direction: "outbound",
  route: "payments",
  from: null,
  upstream: null,
  status: 200,
  durationMs: 1,
  retries: 0,
  termination: "----",
  fault: null,
  ...e,
});

const entries: AccessLogEntry[] = [
  // one logical request retried once: 503 from payments-0 (fault), then 200 from payments-1
  entry({ ts: T0 + 1100, retries: 1, status: 200, upstream: "payments-1" }),
  entry({ ts: T0 + 1100, pod: "payments-0", direction: "inbound", from: "checkout", status: 503, fault: "abort" }),
  entry({ ts: T0 + 1101, pod: "payments-1", direction: "inbound", from: "checkout", status: 200 }),
  // a request payments-0 served during the fault, unaffected
  entry({ ts: T0 + 1500, status: 200, upstream: "payments-0" }),
  entry({ ts: T0 + 1500, pod: "payments-0", direction: "inbound", from: "checkout", status: 200 }),
  // after the fault
  entry({ ts: T0 + 2500, status: 200, upstream: "payments-0" }),
  entry({ ts: T0 + 2500, pod: "payments-0", direction: "inbound", from: "checkout", status: 200 }),
];
const log = { entries, loadStartEpochMs: T0 };

describe("mesh stats", () => {
  it("counts logical requests at the caller and attempts at the callee", () => {
    expect(edgeStats(scenario, log)).toEqual([
      { from: "checkout", to: "payments", requests: 3, attempts: 4, retries: 1, statusCounts: { 200: 3 }, byReplica: { 0: 3, 1: 1 } },
    ]);
  });

  it("counts requests per replica", () => {
    expect(replicaStats(scenario, log).map((r) => [r.service, r.index, r.requests, r.statusCounts])).toEqual([
      ["checkout", 0, 0, {}],
      ["payments", 0, 3, { 200: 2, 503: 1 }],
      ["payments", 1, 1, { 200: 1 }],
    ]);
  });

  it("measures a fault's observed share and activation from the sidecar logs", () => {
    const [f] = faultRecords(scenario, [{ name: "abort", applySentAt: T0 + 1000, appliedAt: T0 + 1002, revertSentAt: T0 + 2000, revertedAt: T0 + 2001, error: null }], log);
    expect(f).toMatchObject({ appliedAt: 1002, revertedAt: 2001, eligible: 2, affected: 1, observedPercent: 0.5, activationMs: 100, configuredPercent: 0.5 });
  });

  it("a fault never applied has no observation, and did not land", () => {
    const [f] = faultRecords(scenario, [], log);
    expect(f).toMatchObject({ appliedAt: null, observedPercent: null, activationMs: null, eligible: 0, landed: false });
    expect(f!.landedReason).toMatch(/never applied/);
  });

  it("records configured and actual times, how the share was read, its tolerance and whether it landed", () => {
    const timing = {
      name: "abort",
      applySentAt: T0 + 750,
      appliedAt: T0 + 1000,
      armedAt: T0 + 752,
      revertSentAt: T0 + 2000,
      revertedAt: T0 + 2001,
      error: null,
      startEpochMs: T0 + 1000,
      untilEpochMs: T0 + 2000,
      pods: ["payments-0"],
      evidence: ["payments-0: abort set in the sidecar"],
      counters: { seen: 2, hits: 1 },
      revertedBy: "schedule" as const,
      observedBy: "tagged" as const,
      deadMan: "proxy",
      determinism: "seeded",
    };
    const [f] = faultRecords(scenario, [timing], log);
    expect(f).toEqual({
      name: "abort",
      kind: "abort",
      target: "payments",
      replicas: [0],
      scheduledAt: 1000,
      scheduledEnd: 2000,
      appliedAt: 1000,
      revertedAt: 2001,
      configuredPercent: 0.5,
      observedPercent: 0.5,
      activationMs: 100,
      eligible: 2,
      affected: 1,
      applySentAt: 750,
      revertSentAt: 2000,
      until: 2000,
      armedAt: 752,
      revertedBy: "schedule",
      error: null,
      pods: ["payments-0"],
      observedBy: "tagged",
      observedSource: "log",
      observationNote: null,
      tolerance: 4 * Math.sqrt(0.25 / 2) + 0.5,
      landed: true,
      landedReason: null,
      evidence: ["payments-0: abort set in the sidecar"],
      proxyCounters: { seen: 2, hits: 1 },
      deadMan: "proxy",
      determinism: "seeded",
    });
  });
});
