import { describe, expect, it } from "vitest";
import type { WindowSpan } from "../plan/types.js";
import { decodeHistogram, percentileOf } from "./client-histogram.js";
import { ClientRecorder, isClientError } from "./client-recorder.js";

const WINDOWS: WindowSpan[] = [
  { name: "whole", ref: { kind: "whole" }, start: 0, end: 10_000 },
  { name: "baseline", ref: { kind: "baseline" }, start: 0, end: 5_000 },
  { name: "fault:abort", ref: { kind: "fault", fault: "abort" }, start: 5_000, end: 8_000 },
  { name: "recovery:abort", ref: { kind: "recovery", fault: "abort" }, start: 8_000, end: 10_000 },
];

describe("ClientRecorder", () => {
  it("assigns a request to every window containing its start time, half-open [start, end)", () => {
    const r = new ClientRecorder(WINDOWS);
    r.record({ startUs: 0, latencyUs: 1_000, status: 200 });
    r.record({ startUs: 4_999_999, latencyUs: 1_000, status: 200 });
    r.record({ startUs: 5_000_000, latencyUs: 90_000, status: 503 }); // starts the fault window
    r.record({ startUs: 7_999_999, latencyUs: 2_000_000, status: "timeout" }); // ends after it: still the fault's
    r.record({ startUs: 8_000_000, latencyUs: 1_000, status: 200 });
    r.record({ startUs: 10_000_000, latencyUs: 1_000, status: 200 }); // after every window

    const s = r.stats();
    expect(s.requests).toBe(6);
    expect(s.errors).toBe(2);
    const counts = Object.fromEntries(Object.entries(s.windows).map(([k, w]) => [k, [w.requests, w.errors]]));
    expect(counts).toEqual({
      whole: [5, 2],
      baseline: [2, 0],
      "fault:abort": [2, 2],
      "recovery:abort": [1, 0],
    });
  });

  it("counts non-2xx/3xx statuses and transport failures as errors", () => {
    expect([200, 204, 302, 399].map((s) => isClientError(s))).toEqual(Array(4).fill(false));
    expect(([100, 404, 500, 503, "error", "timeout"] as const).map((s) => isClientError(s))).toEqual(Array(6).fill(true));
  });

  it("orders status counts numerically, transport failures last", () => {
    const r = new ClientRecorder(WINDOWS);
    for (const status of ["timeout", 503, 200, "error", 200, 404] as const) r.record({ startUs: 1, latencyUs: 5, status });
    expect(Object.entries(r.stats().statusCounts)).toEqual([
      ["200", 2],
      ["404", 1],
      ["503", 1],
      ["error", 1],
      ["timeout", 1],
    ]);
  });

  it("builds a timeline with one point a second, silent seconds included, up to the last window's end", () => {
    const r = new ClientRecorder(WINDOWS);
    for (let i = 0; i < 100; i++) r.record({ startUs: 1_000_000 + i * 1_000, latencyUs: 10_000 + i * 100, status: 200 });
    r.record({ startUs: 3_500_000, latencyUs: 40_000, status: 500 });
    const { timeline } = r.stats();
    expect(timeline).toHaveLength(10);
    expect(timeline.map((p) => p.t)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(timeline[0]).toEqual({ t: 0, requests: 0, errors: 0, latencyUs: { p50: 0, p90: 0, p99: 0 } });
    const second1 = timeline[1]!;
    expect(second1.requests).toBe(100);
    expect(second1.latencyUs.p50).toBeGreaterThanOrEqual(14_900);
    expect(second1.latencyUs.p50).toBeLessThanOrEqual(14_920);
    expect(second1.latencyUs.p99).toBeGreaterThanOrEqual(19_800);
    expect(timeline[3]).toMatchObject({ requests: 1, errors: 1 });
  });

  it("extends the timeline past the windows when requests start later", () => {
    const r = new ClientRecorder([{ name: "whole", ref: { kind: "whole" }, start: 0, end: 2_000 }]);
    r.record({ startUs: 4_200_000, latencyUs: 100, status: 200 });
    expect(r.stats().timeline).toHaveLength(5);
  });

  it("keeps microsecond resolution and encodes each window as a decodable HDR histogram", () => {
    const r = new ClientRecorder(WINDOWS);
    for (let i = 0; i < 1000; i++) r.record({ startUs: 100 + i, latencyUs: 20_123 + (i % 10), status: 200 });
    const whole = r.stats().windows.whole!;
    const h = decodeHistogram(whole.histogram);
    expect(h.totalCount).toBe(1000);
    // 3 significant digits: within 0.1% of the true value, not rounded to milliseconds.
    expect(Math.abs(whole.latencyUs.p50 - 20_127)).toBeLessThan(21);
    expect(whole.latencyUs.p50 % 1000).not.toBe(0);
    expect(percentileOf(whole.histogram, 50)).toBe(whole.latencyUs.p50);
    expect(r.stats().windows["fault:abort"]!.latencyUs).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    expect(percentileOf(r.stats().windows["fault:abort"]!.histogram, 99)).toBeNull();
  });

  it("clamps latencies to the histogram's 60 s range instead of failing", () => {
    const r = new ClientRecorder(WINDOWS);
    r.record({ startUs: 0, latencyUs: 90_000_000, status: "timeout" });
    r.record({ startUs: 0, latencyUs: -5, status: 200 });
    const s = r.stats();
    expect(s.requests).toBe(2);
    expect(s.latencyUs.max).toBeGreaterThanOrEqual(59_900_000);
    expect(s.latencyUs.max).toBeLessThanOrEqual(60_100_000);
  });
});

describe("ClientRecorder memory", () => {
  it("summarises a second once requests start more than 60 s after it, and still counts late ones", () => {
    const r = new ClientRecorder([]);
    r.record({ startUs: 500_000, latencyUs: 1_000, status: 200 });
    r.record({ startUs: 500_001, latencyUs: 3_000, status: 200 });
    r.record({ startUs: 62_000_000, latencyUs: 2_000, status: 200 }); // closes second 0
    r.record({ startUs: 900_000, latencyUs: 59_000_000, status: "timeout" }); // late: counted, not in percentiles
    const [second0] = r.stats().timeline;
    expect(second0).toMatchObject({ t: 0, requests: 3, errors: 1 });
    expect(second0!.latencyUs.p99).toBeLessThan(3_100);
    expect(r.stats().latencyUs.max).toBeGreaterThanOrEqual(58_900_000); // the totals still see it
  });
});

describe("ClientRecorder for the resilience properties", () => {
  it("keeps a 100 ms series of requests, failures and counts against each latency threshold", () => {
    const r = new ClientRecorder(WINDOWS, { latencyThresholdsUs: [50_000, 10_000, 50_000] });
    r.record({ startUs: 50_000, latencyUs: 10_000, status: 200 });
    r.record({ startUs: 99_999, latencyUs: 50_000, status: 503 });
    r.record({ startUs: 250_000, latencyUs: 70_000, status: 200 });
    const s = r.series(500);
    expect(s.slotMs).toBe(100);
    expect(s.requests).toEqual([2, 0, 1, 0, 0]);
    expect(s.errors).toEqual([1, 0, 0, 0, 0]);
    expect(s.latency).toEqual([
      { thresholdUs: 10_000, lt: [0, 0, 0, 0, 0], le: [1, 0, 0, 0, 0] },
      { thresholdUs: 50_000, lt: [1, 0, 0, 0, 0], le: [2, 0, 0, 0, 0] },
    ]);
  });

  it("keeps the ids of failed requests up to a limit, and counts the rest", () => {
    const r = new ClientRecorder(WINDOWS, { maxFailedIds: 2 });
    r.record({ startUs: 1000, latencyUs: 5, status: 200, id: "ok-1" });
    r.record({ startUs: 2000, latencyUs: 5, status: 502, id: "f-1", path: "/a" });
    r.record({ startUs: 3000, latencyUs: 5, status: "timeout", id: "f-2" });
    r.record({ startUs: 4000, latencyUs: 5, status: 500, id: "f-3" });
    expect(r.failed()).toEqual({
      requests: [
        { id: "f-1", startMs: 2, latencyUs: 5, status: 502, path: "/a" },
        { id: "f-2", startMs: 3, latencyUs: 5, status: "timeout", path: null },
      ],
      dropped: 1,
    });
  });

  it("keeps per-window statistics for the paths it is told about, and only those", () => {
    const r = new ClientRecorder(WINDOWS, { paths: ["/a", "/b"] });
    r.record({ startUs: 1_000_000, latencyUs: 5, status: 200, path: "/a" });
    r.record({ startUs: 6_000_000, latencyUs: 5, status: 502, path: "/b" });
    r.record({ startUs: 6_000_000, latencyUs: 5, status: 502, path: "/c" });
    const paths = r.stats().paths!;
    expect(Object.keys(paths)).toEqual(["/a", "/b"]);
    expect(paths["/b"]).toMatchObject({ requests: 1, errors: 1, windows: { "fault:abort": { requests: 1, errors: 1 }, baseline: { requests: 0 } } });
    expect(new ClientRecorder(WINDOWS).stats().paths).toBeUndefined();
  });
});
