import { describe, expect, it } from "vitest";
import type { WindowSpan } from "../plan/types.js";
import { GeneratorRecorder } from "./generator-recorder.js";

const WINDOWS: WindowSpan[] = [
  { name: "whole", ref: { kind: "whole" }, start: 0, end: 3000 },
  { name: "baseline", ref: { kind: "baseline" }, start: 0, end: 1000 },
  { name: "fault:f", ref: { kind: "fault", fault: "f" }, start: 1000, end: 2000 },
];

const open = (lagToleranceUs = 1000) => new GeneratorRecorder({ model: "open", rate: 100, windows: WINDOWS, lagToleranceUs });

describe("GeneratorRecorder", () => {
  it("open load: intended by due time, sent by send time, lag = send − due, per second and per window", () => {
    const g = open();
    for (let i = 0; i < 300; i++) {
      const dueUs = i * 10_000;
      g.record({ startUs: dueUs, sentUs: dueUs + 200, latencyUs: 5000, status: 200 });
    }
    const s = g.stats(3000);
    expect(s).toMatchObject({ intended: 300, sent: 300, notSent: 0, keptUp: true });
    expect(s.lagUs).toEqual({ p50: 200, p99: 200, max: 200 });
    expect(s.perSecond.map((x) => [x.t, x.intended, x.sent, x.notSent])).toEqual([
      [0, 100, 100, 0],
      [1, 100, 100, 0],
      [2, 100, 100, 0],
    ]);
    expect(s.perSecond[0]!.lagUs!.p99).toBeGreaterThanOrEqual(190);
    expect(s.perSecond[0]!.lagUs!.p99).toBeLessThanOrEqual(210);
    expect(s.windows["fault:f"]).toEqual({ intended: 100, sent: 100, notSent: 0, lagUs: { p50: 200, p99: 200, max: 200 }, keptUp: true, reason: null });
  });

  it("a window whose lag p99 is over the tolerance did not keep up, and says by how much", () => {
    const g = open();
    for (let i = 0; i < 300; i++) {
      const dueUs = i * 10_000;
      // Five ms late for every tenth request of the fault window: lag p99 there is 5 ms.
      const lag = dueUs >= 1_000_000 && dueUs < 2_000_000 && i % 10 === 0 ? 5000 : 100;
      g.record({ startUs: dueUs, sentUs: dueUs + lag, latencyUs: 5000, status: 200 });
    }
    const s = g.stats(3000);
    expect(s.keptUp).toBe(false);
    expect(s.windows.baseline!.keptUp).toBe(true);
    expect(s.windows["fault:f"]).toMatchObject({ keptUp: false, reason: "its lag p99 was 5 ms, over the 1 ms it allows itself" });
  });

  it("a window where it sent under 99% of what it could send (it fell seconds behind) did not keep up", () => {
    const g = open(1e9);
    for (let i = 0; i < 100; i++) {
      const dueUs = 1_000_000 + i * 10_000;
      // The second half of the fault window's requests left only after the window ended.
      g.record({ startUs: dueUs, sentUs: i < 50 ? dueUs : 2_100_000, latencyUs: 5000, status: 200 });
    }
    const w = g.stats(3000).windows["fault:f"]!;
    expect(w).toMatchObject({ intended: 100, sent: 50, keptUp: false });
    expect(w.reason).toContain("it sent 50 of the 100 requests due (under 99%)");
  });

  it("notSent: counted by due time, not as sent, and not against the generator (the cap is the scenario's)", () => {
    const g = open();
    for (let i = 0; i < 100; i++) {
      const dueUs = 1_000_000 + i * 10_000;
      if (i % 4 === 0) g.record({ startUs: dueUs, latencyUs: 0, status: "notSent" });
      else g.record({ startUs: dueUs, sentUs: dueUs + 50, latencyUs: 5000, status: 200 });
    }
    const s = g.stats(3000);
    expect(s.windows["fault:f"]).toMatchObject({ intended: 100, sent: 75, notSent: 25, keptUp: true });
    expect(s.perSecond[1]).toMatchObject({ intended: 100, sent: 75, notSent: 25 });
    expect(s.notSent).toBe(25);
  });

  it("closed load: intended is what the rate asked for; sent falls behind when the system slows, and that is not judged", () => {
    const g = new GeneratorRecorder({ model: "closed", rate: 100, windows: WINDOWS, lagToleranceUs: 1000 });
    // 100 req/s asked; 16 req/s sent during the fault (each connection waited for slow answers).
    for (let t = 0; t < 1000; t += 10) g.record({ startUs: t * 1000, latencyUs: 2000, status: 200 });
    for (let t = 1000; t < 2000; t += 62.5) g.record({ startUs: t * 1000, latencyUs: 450_000, status: 200 });
    for (let t = 2000; t < 3000; t += 10) g.record({ startUs: t * 1000, latencyUs: 2000, status: 200 });
    const s = g.stats(3000);
    expect(s.keptUp).toBeNull();
    expect(s.lagUs).toBeNull();
    expect(s.windows["fault:f"]).toEqual({ intended: 100, sent: 16, notSent: 0, lagUs: null, keptUp: null, reason: null });
    expect(s.perSecond.map((x) => x.intended)).toEqual([100, 100, 100]);
  });
});
