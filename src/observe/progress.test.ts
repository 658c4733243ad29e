import { describe, expect, it } from "vitest";
import { ProgressMeter } from "./progress.js";

describe("the progress meter", () => {
  it("gives each second's rate, error share and p99, and the run so far", () => {
    const m = new ProgressMeter(10_000, 1000);
    for (let i = 0; i < 100; i++) m.record({ startUs: i * 10_000, latencyUs: i < 98 ? 2000 : 50_000, status: i < 95 ? 200 : 503 });
    const first = m.snapshot(2000, ["payments-abort"]);
    expect(first).toMatchObject({ elapsedMs: 1000, totalMs: 10_000, rate: 100, errorShare: 0.05, requests: 100, errors: 5, faults: ["payments-abort"] });
    expect(first.p99Us).toBeGreaterThanOrEqual(49_000);
    m.record({ startUs: 1_000_000, latencyUs: 0, status: "notSent" });
    const second = m.snapshot(2500, []);
    expect(second).toMatchObject({ elapsedMs: 1500, rate: 2, errorShare: 1, p99Us: null, requests: 101, errors: 6, faults: [] });
    expect(m.snapshot(3500, [])).toMatchObject({ rate: 0, errorShare: null, p99Us: null });
  });
});
