import { describe, expect, it } from "vitest";
import { attemptsVariance, chainModel, expectedAttempts, hopFailure } from "./amplification-model.js";
import { edgeCounts } from "./retry-amplification.js";
import { policy, scenario, service, simulate } from "./fixtures.js";

describe("the amplification model", () => {
  it("expects 1 + p + … + p^(n−1) tries per request and fails a request only when all n fail", () => {
    expect(expectedAttempts(0.5, 3)).toBeCloseTo(1.75, 12);
    expect(expectedAttempts(0.3, 3)).toBeCloseTo(1.39, 12);
    expect(expectedAttempts(0.9, 1)).toBe(1);
    expect(expectedAttempts(0, 5)).toBe(1);
    expect(expectedAttempts(1, 4)).toBe(4);
    expect(hopFailure(0.5, 3)).toBeCloseTo(0.125, 12);
  });

  it("knows the spread of the tries per request (a truncated geometric)", () => {
    // p = 0.5, n = 3: P(1) = .5, P(2) = .25, P(3) = .25 → E = 1.75, E[A²] = 3.75, Var = 0.6875.
    expect(attemptsVariance(0.5, 3)).toBeCloseTo(0.6875, 12);
    expect(attemptsVariance(0, 3)).toBe(0);
    expect(attemptsVariance(1, 3)).toBeCloseTo(0, 12);
  });

  it("composes a chain from the bottom: a hop's failures are all-tries-failed of the hop below", () => {
    const [top, bottom] = chainModel(
      [
        { from: "b1", to: "b2", attempts: 3 },
        { from: "b2", to: "b3", attempts: 3 },
      ],
      0.5,
    );
    expect(bottom!.amplification).toBeCloseTo(1.75, 12);
    expect(bottom!.requestFailure).toBeCloseTo(0.125, 12);
    expect(top!.tryFailure).toBeCloseTo(0.125, 12);
    expect(top!.amplification).toBeCloseTo(1 + 0.125 + 0.125 ** 2, 12);
    // A retry storm is a product across hops.
    expect(bottom!.perTopRequest).toBeCloseTo(top!.amplification * 1.75, 12);
  });

  it("agrees with a simulated chain within 4 standard errors, for two chains and two values of p", () => {
    for (const p of [0.3, 0.5]) {
      const sc = scenario({
        services: [service("front", ["a1", "b1"]), service("a1", ["a2"]), { ...service("a2"), errorRate: p }, service("b1", ["b2"]), service("b2", ["b3"]), { ...service("b3"), errorRate: p }],
        policies: { a2: policy({ attempts: 3 }), b2: policy({ attempts: 3 }), b3: policy({ attempts: 3 }) },
        load: { target: "front", rate: 400, model: "closed", arrivals: "constant", connections: 8, maxInFlight: 8, timeoutMs: 10_000, maxLagMs: 10, durationMs: 10_000, protocol: "http", requests: [], grpc: null },
      });
      const run = simulate(sc, { seed: Math.round(p * 100) });
      const chains = [
        chainModel([{ from: "a1", to: "a2", attempts: 3 }], p),
        chainModel(
          [
            { from: "b1", to: "b2", attempts: 3 },
            { from: "b2", to: "b3", attempts: 3 },
          ],
          p,
        ),
      ];
      for (const hop of chains.flat()) {
        const { requests, attempts } = edgeCounts(run.entries, hop.from, hop.to);
        const tolerance = (4 * hop.sd) / Math.sqrt(requests) + 1e-9;
        expect(Math.abs(attempts / requests - hop.amplification), `${hop.from} → ${hop.to} at p = ${p}`).toBeLessThanOrEqual(tolerance);
      }
    }
  });
});
