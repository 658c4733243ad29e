import { describe, expect, it } from "vitest";
import { ReadinessTimeoutError, waitFor, within } from "./wait-for.js";

const never = () => new Promise<boolean>(() => {});

describe("waitFor", () => {
  it("keeps its deadline when a probe never returns, and says the probe hung", async () => {
    const t0 = Date.now();
    const err = await waitFor(never, { what: "a probe that hangs", timeoutMs: 300, probeTimeoutMs: 100 }).catch((e: unknown) => e);
    const took = Date.now() - t0;
    expect(err).toBeInstanceOf(ReadinessTimeoutError);
    expect((err as Error).message).toMatch(/Timed out after 300 ms waiting for a probe that hangs\.\n {2}last probe error: no answer within 100 ms/);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(800);
  });

  it("keeps its deadline when the only probe hangs past it (probe limit longer than the deadline)", async () => {
    const t0 = Date.now();
    await expect(waitFor(never, { what: "x", timeoutMs: 200, probeTimeoutMs: 60_000 })).rejects.toBeInstanceOf(ReadinessTimeoutError);
    expect(Date.now() - t0).toBeLessThan(700);
  });

  it("tells a hung probe it was given up on", async () => {
    const seen: AbortSignal[] = [];
    await waitFor((signal) => (seen.push(signal), never()), { what: "x", timeoutMs: 150, probeTimeoutMs: 50 }).catch(() => {});
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((s) => s.aborted)).toBe(true);
  });

  it("stops at once on abort, even inside a probe that blocks, with the signal's reason", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("SIGINT")), 50);
    const t0 = Date.now();
    await expect(waitFor(never, { what: "x", timeoutMs: 10_000, signal: ac.signal })).rejects.toThrow("SIGINT");
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it("a log tail that hangs does not hold the timeout either", async () => {
    const t0 = Date.now();
    const err = (await waitFor(async () => false, { what: "x", timeoutMs: 100, logTail: () => new Promise(() => {}) }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/could not read logs: no answer within 3000 ms/);
    expect(Date.now() - t0).toBeLessThan(4_000);
  });

  it("resolves as soon as a probe says ready; keeps the last probe error otherwise", async () => {
    let n = 0;
    await waitFor(async () => ++n === 3, { what: "x", timeoutMs: 1000, intervalMs: 1 });
    expect(n).toBe(3);
    const err = (await waitFor(() => Promise.reject(new Error("connection refused")), { what: "x", timeoutMs: 50, intervalMs: 5 }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain("last probe error: connection refused");
  });
});

describe("within", () => {
  it("passes a result through and clears its timer", async () => {
    expect(await within(1000, undefined, async () => 7)).toBe(7);
  });
});
