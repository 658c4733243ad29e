import { describe, expect, it } from "vitest";
import type { AccessLogEntry } from "../dataplane/types.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { meshTimeline } from "./mesh-timeline.js";

const T0 = 1_700_000_000_000;
const scenario = {
  load: { durationMs: 3000 },
  services: [
    { name: "checkout", replicas: 1, calls: ["payments"] },
    { name: "payments", replicas: 2, calls: [] },
  ],
} as unknown as ResolvedScenario;
const e = (x: Partial<AccessLogEntry>): AccessLogEntry => ({
  ts: T0, pod: "checkout-0", direction: "outbound", route: "payments", from: null, upstream: null,
  status: 200, durationMs: 1, retries: 0, termination: "----", fault: null, ...x,
});

describe("meshTimeline", () => {
  it("puts each request in the second its sidecar accepted it, per edge and per replica", () => {
    const tl = meshTimeline(scenario, {
      loadStartEpochMs: T0,
      entries: [
        e({ ts: T0 + 10, retries: 1 }),
        e({ ts: T0 + 20, pod: "payments-0", direction: "inbound", from: "checkout", status: 503 }),
        e({ ts: T0 + 21, pod: "payments-1", direction: "inbound", from: "checkout" }),
        e({ ts: T0 + 2500, status: 502 }),
        e({ ts: T0 + 2501, pod: "payments-1", direction: "inbound", from: "checkout", status: 502 }),
        e({ ts: T0 + 9000 }), // after the load: not in any second
      ],
    });
    expect(tl.edges).toEqual([
      {
        from: "checkout",
        to: "payments",
        points: [
          { t: 0, requests: 1, attempts: 2, retries: 1, errors: 0 },
          { t: 1, requests: 0, attempts: 0, retries: 0, errors: 0 },
          { t: 2, requests: 1, attempts: 1, retries: 0, errors: 1 },
        ],
      },
    ]);
    expect(tl.replicas.map((r) => [r.service, r.index, r.requests])).toEqual([
      ["checkout", 0, [0, 0, 0]],
      ["payments", 0, [1, 0, 0]],
      ["payments", 1, [1, 0, 1]],
    ]);
  });
});
