import { describe, expect, it } from "vitest";
import type { MeshEvent } from "../dataplane/types.js";
import type { ReplicaStats } from "../model/run-report.js";
import { ejections, healthChanges, withPolicyEvents } from "./policy-events.js";

const T0 = 1_700_000_000_000;
const at = { pod: "checkout-0", route: "payments", replica: 0 };
const events: MeshEvent[] = [
  { kind: "ejection", ts: T0 + 1000, ...at, untilTs: T0 + 2000, count: 1 },
  { kind: "health", ts: T0 + 1200, ...at, replica: 1, healthy: false, check: "L7STS" },
  { kind: "readmission", ts: T0 + 2400, ...at },
  { kind: "ejection-skipped", ts: T0 + 2500, ...at, reason: "max-ejection-percent" },
  { kind: "ejection", ts: T0 + 3000, ...at, untilTs: T0 + 5000, count: 2 },
  // Another caller's sidecar ejects on its own.
  { kind: "ejection", ts: T0 + 3100, ...at, pod: "checkout-1", untilTs: T0 + 4100, count: 1 },
  { kind: "readmission", ts: T0 + 4200, ...at, pod: "checkout-1" },
  { kind: "health", ts: T0 + 4500, ...at, replica: 1, healthy: true, check: "L7OK" },
];

describe("ejections", () => {
  it("pairs every ejection with the re-admission that ended it, per caller", () => {
    expect(ejections(events, T0)).toEqual([
      { replica: "payments-0", by: "checkout-0", at: 1000, until: 2400, plannedUntil: 2000, count: 1 },
      { replica: "payments-0", by: "checkout-0", at: 3000, until: null, plannedUntil: 5000, count: 2 },
      { replica: "payments-0", by: "checkout-1", at: 3100, until: 4200, plannedUntil: 4100, count: 1 },
    ]);
  });
});

describe("withPolicyEvents", () => {
  it("fills replicas[].ejections, ejectionsSkipped and healthChanges", () => {
    const replicas: ReplicaStats[] = [0, 1].map((index) => ({ service: "payments", index, requests: 10, statusCounts: {}, ejections: [] }));
    const [r0, r1] = withPolicyEvents(replicas, events, T0);
    expect(r0).toEqual({
      service: "payments",
      index: 0,
      requests: 10,
      statusCounts: {},
      ejections: [
        { at: 1000, until: 2400, by: "checkout-0", count: 1 },
        { at: 3000, until: null, by: "checkout-0", count: 2 },
        { at: 3100, until: 4200, by: "checkout-1", count: 1 },
      ],
      ejectionsSkipped: 1,
    });
    expect(r1?.healthChanges).toEqual([
      { at: 1200, healthy: false, by: "checkout-0", check: "L7STS" },
      { at: 4500, healthy: true, by: "checkout-0", check: "L7OK" },
    ]);
    expect(healthChanges(events, T0)).toHaveLength(2);
  });
});
