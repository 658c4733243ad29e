import { describe, expect, it } from "vitest";
import { attributionFaults } from "../observe/attribution.js";
import type { ResolvedFault } from "../scenario/types.js";
import { scenario, service } from "../verdict/properties/fixtures.js";
import { faultSpan } from "./span.js";

const scheduled = { name: "f", kind: "blackhole", appliedAt: null, revertedAt: null, scheduledAt: 1000, scheduledEnd: 5000 };
/** Applied on time; the proxy stopped it at `until`, the teardown's revert came 400 ms later. */
const lateRevert = { ...scheduled, appliedAt: 1020, revertedAt: 5400, until: 5000 };

describe("faultSpan", () => {
  it("ends at the dead-man end when the fault stopped itself before the harness's revert came", () => {
    expect(faultSpan(lateRevert)).toMatchObject({ start: 1020, end: 5000 });
  });

  it("ends a killed or paused app at its revert: nothing but the harness brings it back", () => {
    expect(faultSpan({ ...lateRevert, kind: "kill" })).toMatchObject({ start: 1020, end: 5400 });
    expect(faultSpan({ ...lateRevert, kind: "pause" })).toMatchObject({ start: 1020, end: 5400 });
  });

  it("ends at the revert when it came first, and follows the schedule when the fault never ran", () => {
    expect(faultSpan({ ...lateRevert, revertedAt: 3000 })).toMatchObject({ start: 1020, end: 3000 });
    expect(faultSpan(scheduled)).toMatchObject({ start: 1000, end: 5000, source: "scheduled (never applied)" });
  });

  it("is what attribution uses: a failure after a dead-man end is not put down to the fault", () => {
    const sc = scenario({ services: [service("front", ["checkout"]), service("checkout")] });
    const fault: ResolvedFault = {
      name: "f",
      kind: "blackhole",
      target: "checkout",
      replicas: [0],
      from: null,
      match: null,
      probability: 1,
      atMs: 1000,
      durationMs: 4000,
      location: { line: 1, col: 1 },
      attributes: {},
    };
    const [f] = attributionFaults([fault], [lateRevert], sc);
    expect([f!.startMs, f!.endMs]).toEqual([1020, 5000]);
  });
});
