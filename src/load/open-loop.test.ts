import { describe, expect, it } from "vitest";
import { arrivalSchedule, scheduledRequests } from "./arrivals.js";
import { OpenLoop, type OpenSample } from "./open-loop.js";

describe("arrivalSchedule", () => {
  it("constant: request i is due at i / rate", () => {
    const s = arrivalSchedule({ rate: 100, arrivals: "constant", seed: 1 });
    const due: number[] = [];
    for (let t = s.peek(); t < 50; t = s.peek()) {
      due.push(t);
      s.take();
    }
    expect(due).toEqual([0, 10, 20, 30, 40]);
    expect(s.taken).toBe(5);
  });

  it("constant: no drift over a long run (each due time is computed, not accumulated)", () => {
    const s = arrivalSchedule({ rate: 3, arrivals: "constant", seed: 1 });
    let last = 0;
    for (let t = s.peek(); t < 3_600_000; t = s.peek()) {
      last = t;
      s.take();
    }
    expect(s.taken).toBe(scheduledRequests(3, 3_600_000));
    expect(last).toBeCloseTo(3_600_000 - 1000 / 3, 6);
  });

  it("poisson: mean gap 1/rate, exponential spread, and the same seed gives the same schedule", () => {
    const gaps = (seed: number): number[] => {
      const s = arrivalSchedule({ rate: 200, arrivals: "poisson", seed });
      const out: number[] = [];
      let prev = 0;
      for (let t = s.peek(); t < 600_000; t = s.peek()) {
        out.push(t - prev);
        prev = t;
        s.take();
      }
      return out;
    };
    const g = gaps(42);
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    expect(mean).toBeGreaterThan(4.95);
    expect(mean).toBeLessThan(5.05);
    // An exponential's standard deviation equals its mean (coefficient of variation 1).
    const sd = Math.sqrt(g.reduce((a, b) => a + (b - mean) ** 2, 0) / g.length);
    expect(sd / mean).toBeGreaterThan(0.97);
    expect(sd / mean).toBeLessThan(1.03);
    expect(g.length).toBeGreaterThan(119_000);
    expect(g.length).toBeLessThan(121_000);
    expect(gaps(42).slice(0, 100)).toEqual(g.slice(0, 100));
    expect(gaps(43).slice(0, 100)).not.toEqual(g.slice(0, 100));
  });
});

/** A fake clock and transport: requests answer when the test says so. */
function harness(opts: { rate?: number; durationMs?: number; maxInFlight?: number; timeoutMs?: number } = {}) {
  let clock = 0;
  const sent: { seq: number; at: number; template: number }[] = [];
  const aborted: number[] = [];
  const samples: OpenSample[] = [];
  let template = 0;
  const loop = new OpenLoop({
    schedule: arrivalSchedule({ rate: opts.rate ?? 100, arrivals: "constant", seed: 1 }),
    durationMs: opts.durationMs ?? 1000,
    maxInFlight: opts.maxInFlight ?? 1000,
    timeoutMs: opts.timeoutMs ?? 10_000,
    nextTemplate: () => template++ % 2,
    now: () => clock,
    transport: {
      send: (seq, t) => sent.push({ seq, at: clock, template: t }),
      abort: (seq) => aborted.push(seq),
    },
    onSample: (s) => samples.push(s),
  });
  return {
    loop,
    sent,
    aborted,
    samples,
    at(ms: number) {
      clock = ms;
      loop.pump();
    },
    answer(seq: number, ms: number, status: number | "error" = 200) {
      clock = ms;
      loop.settle(seq, status);
    },
  };
}

describe("OpenLoop", () => {
  it("sends every request when due, whether or not earlier ones were answered", () => {
    const h = harness({ rate: 100, durationMs: 100 });
    for (let t = 0; t <= 95; t += 5) h.at(t);
    expect(h.sent.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(h.sent.map((s) => s.at)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(h.loop.counts.inFlight).toBe(10);
    expect(h.samples).toEqual([]);
  });

  it("a late wake-up sends everything due at once, each keeping its due time; latency counts from it", () => {
    const h = harness({ rate: 100, durationMs: 100 });
    h.at(35); // the generator overslept: 0, 10, 20 and 30 were due
    expect(h.sent.map((s) => [s.seq, s.at])).toEqual([[0, 35], [1, 35], [2, 35], [3, 35]]);
    h.answer(2, 37);
    expect(h.samples).toEqual([{ seq: 2, intendedMs: 20, sentMs: 35, doneMs: 37, status: 200, template: 0 }]);
  });

  it("the in-flight cap: a request due while maxInFlight are out is notSent, recorded at once with its due time", () => {
    const h = harness({ rate: 100, durationMs: 60, maxInFlight: 2 });
    h.at(0);
    h.at(10);
    h.at(20); // 0 and 1 still out: 2 is not sent
    expect(h.samples).toEqual([{ seq: 2, intendedMs: 20, sentMs: null, doneMs: 20, status: "notSent", template: 0 }]);
    h.answer(0, 25);
    h.at(30); // a slot is free again
    expect(h.sent.map((s) => s.seq)).toEqual([0, 1, 3]);
    expect(h.loop.counts).toMatchObject({ sent: 3, notSent: 1, inFlight: 2 });
  });

  it("times out a request at its due time + timeout, aborts it, and ignores a late answer", () => {
    const h = harness({ rate: 10, durationMs: 300, timeoutMs: 150 });
    h.at(0);
    h.at(100);
    expect(h.loop.nextWakeMs()).toBe(150); // the first deadline comes before the next due time (200)
    h.at(150);
    expect(h.aborted).toEqual([0]);
    expect(h.samples).toEqual([{ seq: 0, intendedMs: 0, sentMs: 0, doneMs: 150, status: "timeout", template: 0 }]);
    h.answer(0, 160); // too late: already settled
    h.answer(1, 170, "error");
    expect(h.samples.map((s) => [s.seq, s.status])).toEqual([[0, "timeout"], [1, "error"]]);
  });

  it("keeps sending, unrecorded, past the duration until the last recorded request is answered", () => {
    const h = harness({ rate: 100, durationMs: 30 });
    h.at(0);
    h.at(10);
    h.at(20);
    h.answer(0, 21);
    h.answer(1, 22);
    h.at(30); // past the duration, request 2 still out: the load goes on
    h.at(40);
    expect(h.sent.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(h.loop.done).toBe(false);
    h.answer(3, 41); // unrecorded
    h.answer(2, 45);
    expect(h.loop.done).toBe(true);
    expect(h.loop.nextWakeMs()).toBeNull();
    h.at(50);
    expect(h.sent).toHaveLength(5);
    expect(h.samples.map((s) => s.seq)).toEqual([0, 1, 2]);
  });

  it("ends as soon as every recorded request is answered, and stop() ends it at once", () => {
    const h = harness({ rate: 100, durationMs: 20 });
    h.at(0);
    h.answer(0, 1);
    h.at(10);
    h.answer(1, 12);
    expect(h.loop.done).toBe(true);
    const s = harness({ rate: 100, durationMs: 1000 });
    s.at(0);
    s.loop.stop();
    s.at(500);
    expect(s.sent).toHaveLength(1);
    expect(s.loop.done).toBe(true);
  });

  it("hands each request its template from the mix", () => {
    const h = harness({ rate: 100, durationMs: 40 });
    h.at(39);
    expect(h.sent.map((s) => s.template)).toEqual([0, 1, 0, 1]);
  });

  it("accounts for every request due: sent + notSent = scheduled", () => {
    const h = harness({ rate: 1000, durationMs: 2000, maxInFlight: 7 });
    let out: number[] = [];
    for (let t = 0; t < 2000; t += 3) {
      h.at(t);
      // answer the oldest two of what is out every 3 ms: slower than the arrivals, so the cap binds
      out = h.sent.map((s) => s.seq).filter((seq) => !h.samples.some((x) => x.seq === seq));
      for (const seq of out.slice(0, 2)) h.answer(seq, t + 1);
    }
    h.at(1999);
    for (const s of h.sent) h.answer(s.seq, 2500);
    const { sent, notSent } = h.loop.counts;
    expect(sent + notSent).toBe(scheduledRequests(1000, 2000));
    expect(notSent).toBeGreaterThan(0);
    expect(h.samples).toHaveLength(2000);
  });
});
