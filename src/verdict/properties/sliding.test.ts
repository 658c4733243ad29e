import { describe, expect, it } from "vitest";
import type { ClientSeries } from "../../observe/client-recorder.js";
import { ClientRecorder } from "../../observe/client-recorder.js";
import { slo } from "./fixtures.js";
import { MissingThresholdError, Prefix, settle, slotRange, windowJudge, windowSlots } from "./sliding.js";

/** A series of `slots` slots with `per` requests each; errors(i) failures in slot i. */
function series(slots: number, per: number, errors: (i: number) => number = () => 0): ClientSeries {
  return {
    slotMs: 100,
    requests: Array.from({ length: slots }, () => per),
    errors: Array.from({ length: slots }, (_, i) => errors(i)),
    latency: [],
  };
}

describe("Prefix", () => {
  it("sums any range of slots, clamped to the series", () => {
    const p = new Prefix([1, 2, 3, 4]);
    expect([p.sum(0, 4), p.sum(1, 3), p.sum(3, 3), p.sum(-5, 2), p.sum(2, 99)]).toEqual([10, 5, 0, 3, 7]);
  });
});

describe("windowJudge", () => {
  it("judges an error rate over a window, needing ceil(1/t) requests to resolve it", () => {
    const j = windowJudge(series(10, 10, (i) => (i === 3 ? 2 : 0)), [slo("error_rate < 5%")]);
    expect(j.minimumRequests).toBe(20);
    expect(j.judge(0, 2)).toMatchObject({ holds: true, requests: 20 });
    expect(j.judge(3, 5)).toMatchObject({ holds: false, requests: 20 });
    expect(j.judge(3, 5).results[0]).toMatchObject({ value: 0.1, good: 0.9 });
  });

  it("judges p(N) exactly from counts under the threshold, as the k-th smallest latency", () => {
    const r = new ClientRecorder([], { latencyThresholdsUs: [100_000] });
    // 100 requests: 98 fast, 2 at exactly 100 ms. p(99) is the 99th smallest: 100 ms.
    for (let i = 0; i < 100; i++) r.record({ startUs: i * 1000, latencyUs: i < 98 ? 5000 : 100_000, status: 200 });
    const s = r.series();
    expect(windowJudge(s, [slo("p(99) < 100ms")]).judge(0, 1).holds).toBe(false);
    expect(windowJudge(s, [slo("p(99) <= 100ms")]).judge(0, 1).holds).toBe(true);
    expect(windowJudge(s, [slo("p(98) < 100ms")]).judge(0, 1).holds).toBe(true);
    expect(windowJudge(s, [slo("p(99) > 100ms")]).judge(0, 1).holds).toBe(false);
    expect(windowJudge(s, [slo("p(99) >= 100ms")]).judge(0, 1).holds).toBe(true);
    expect(() => windowJudge(s, [slo("p(99) < 200ms")])).toThrow(MissingThresholdError);
  });
});

describe("settle", () => {
  it("finds the first slot from which every window holds", () => {
    // 10 requests a slot; errors in slots 0..4; 5% needs 20 requests: windows of two slots.
    const j = windowJudge(series(30, 10, (i) => (i < 5 ? 5 : 0)), [slo("error_rate <= 5%")]);
    const r = settle(j, 0, 30);
    expect(r.settledSlot).toBe(5);
    expect(r.breaking).toBe(5); // windows starting at 0..4 include a failing slot
    expect(r.windows).toBe(29);
    expect(r.tailSlots).toBe(1); // the last slot alone cannot hold 20 requests
  });

  it("grows a window where the rate falls, so a quiet stretch of failures still breaks", () => {
    // Slots 10..19 carry one request each, and it fails: a fixed 2-slot window would see too few to judge.
    const s = series(40, 10);
    for (let i = 10; i < 20; i++) {
      s.requests[i] = 1;
      s.errors[i] = 1;
    }
    const r = settle(windowJudge(s, [slo("error_rate <= 5%")]), 0, 40);
    // The window from slot 19 holds its one failure among 21 requests (4.8%): settled there.
    expect(r.settledSlot).toBe(19);
    expect(r.lastBad).toMatchObject({ a: 18 });
    expect(r.breaking).toBeGreaterThanOrEqual(10);
  });

  it("never settles when the last window still breaks, and settles at once when nothing breaks", () => {
    expect(settle(windowJudge(series(10, 10, (i) => (i >= 8 ? 5 : 0)), [slo("error_rate <= 5%")]), 0, 10).settledSlot).toBeNull();
    expect(settle(windowJudge(series(10, 10), [slo("error_rate <= 5%")]), 2, 10).settledSlot).toBe(2);
  });
});

describe("slot helpers", () => {
  it("takes the slots fully inside a span, and a window's length at a mean rate", () => {
    expect(slotRange(2050, 6000, 100, 100)).toEqual({ first: 21, end: 60 });
    expect(slotRange(2000, 99_999, 100, 50)).toEqual({ first: 20, end: 50 });
    expect(windowSlots(15, 100)).toBe(7);
    expect(windowSlots(0, 100)).toBe(Number.POSITIVE_INFINITY);
  });
});
