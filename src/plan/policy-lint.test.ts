import { describe, expect, it } from "vitest";
import { parseScenario } from "../scenario/load-scenario.js";
import { lintPolicies } from "./policy-lint.js";
import type { PlanWarning } from "../scenario/warnings.js";

function lint(policies: string, extra = ""): string[] {
  const text = `
name: lint
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
${extra}
load: { target: frontend, rate: 50, connections: 8, duration: 20s }
policies:
  payments: ${policies}
`;
  const { scenario, problems } = parseScenario("lint.yaml", text);
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return texts(lintPolicies(scenario!));
}

const texts = (warnings: PlanWarning[]) => warnings.map((w) => w.text);

describe("lintPolicies", () => {
  it("is quiet about a sensible policy", () => {
    expect(
      lint(`{ timeout: 2s, retries: { attempts: 3, perTryTimeout: 300ms, budget: { ratio: 0.2, minPerSecond: 1 } },
               circuitBreaker: { maxConnections: 4, maxPending: 2 },
               outlierDetection: { consecutive5xx: 3, baseEjectionTime: 5s, maxEjectionPercent: 50 },
               healthCheck: { interval: 1s } }`),
    ).toEqual([]);
  });

  it("flags breaker limits the load can never reach", () => {
    expect(lint("{ circuitBreaker: { maxConnections: 100 } }")).toEqual([
      "policies.payments.circuitBreaker.maxConnections: 100 can never be reached at this load: at most 8 requests are in flight at once (load.connections), so the breaker never trips",
    ]);
    expect(lint("{ circuitBreaker: { maxConnections: 4, maxPending: 4 } }")).toEqual([
      "policies.payments.circuitBreaker.maxPending: 4 can never overflow at this load: at most 4 requests ever wait (load.connections 8 − maxConnections 4)",
    ]);
    expect(lint("{ circuitBreaker: { maxPending: 1 } }")).toEqual([
      "policies.payments.circuitBreaker.maxPending: has no effect without maxConnections: nothing ever waits for a connection",
    ]);
  });

  it("open load: estimates what reaches the breaker from the rate and the latency under the scenario's faults", () => {
    const open = (policies: string, faults = "") =>
      texts(
        lintPolicies(parseScenario(
          "open.yaml",
          `
name: open
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2, latency: 2ms..4ms }
load: { target: frontend, rate: 100, duration: 20s }
policies:
  payments: ${policies}
${faults}`,
        ).scenario!),
      );
    // No fault: 100 req/s × 4 ms ≈ 0.4 in flight — 10 is never reached.
    expect(open("{ timeout: 2s, circuitBreaker: { maxConnections: 10, maxPending: 4 } }")).toEqual([
      "policies.payments.circuitBreaker.maxConnections: 10 can never be reached at this load: about 0.4 requests are in flight from the busiest caller's sidecar (100 req/s × 4ms, its slowest under the scenario's faults), 4 at a peak, so the breaker never trips",
    ]);
    // A 400 ms delay: about 40 in flight, well past the limits.
    const slow = "faults:\n  - { name: slow, kind: delay, target: payments, delay: 400ms, at: 5s, duration: 5s }";
    expect(open("{ timeout: 2s, circuitBreaker: { maxConnections: 10, maxPending: 4 } }", slow)).toEqual([]);
    // A hang lasts until the timeout cuts it: 100 req/s × 300 ms.
    const hang = "faults:\n  - { name: hang, kind: pause, target: payments, at: 5s, duration: 5s }";
    expect(open("{ timeout: 300ms, circuitBreaker: { maxConnections: 10 } }", hang)).toEqual([]);
    expect(open("{ timeout: 300ms, circuitBreaker: { maxConnections: 60 } }", hang)).toEqual([
      "policies.payments.circuitBreaker.maxConnections: 60 can never be reached at this load: about 30 requests are in flight from the busiest caller's sidecar (100 req/s × 300ms, its slowest under the scenario's faults), 48 at a peak, so the breaker never trips",
    ]);
  });

  it("flags an ejection that can never happen", () => {
    expect(lint("{ outlierDetection: { consecutive5xx: 3, baseEjectionTime: 1s } }")).toEqual([
      "policies.payments.outlierDetection: can never eject: ejecting one of 3 replicas would take 33.3% out, over maxEjectionPercent 10%",
    ]);
    expect(lint("{ outlierDetection: { baseEjectionTime: 1s, maxEjectionPercent: 50 } }", "  ledger: {}").length).toBe(0);
    const one = `
name: lint
services:
  frontend: { calls: [payments] }
  payments: { replicas: 1 }
load: { target: frontend, duration: 20s }
policies:
  payments: { outlierDetection: { baseEjectionTime: 30s, maxEjectionPercent: 50 } }
`;
    const warnings = lintPolicies(parseScenario("one.yaml", one).scenario!);
    expect(warnings.map((w) => [w.id, w.path.join(".")])).toEqual([
      ["ejection-impossible", "policies.payments.outlierDetection"],
      ["ejection-never-returns", "policies.payments.outlierDetection.baseEjectionTime"],
    ]);
    expect(texts(warnings)).toEqual([
      "policies.payments.outlierDetection: can never eject: there is one replica, and ejecting it would take 100% of them out",
      "policies.payments.outlierDetection.baseEjectionTime: 30s is not shorter than the load (20s): an ejected replica never returns during the run",
    ]);
  });

  it("flags timeouts that contradict the retries", () => {
    // Reported, located, by the scenario cross-checks instead.
    expect(lint("{ timeout: 300ms, retries: { attempts: 3, perTryTimeout: 500ms } }")).toEqual([]);
    expect(lint("{ timeout: 1s, retries: { attempts: 5, perTryTimeout: 500ms } }")).toEqual([
      "policies.payments.retries: 5 attempts × perTryTimeout 500ms = 2.5s is far beyond the timeout 1s: when tries time out, at most 2 of them start before the timeout ends the request",
    ]);
    expect(lint("{ timeout: 1s, retries: { attempts: 2, retryOn: [timeout] } }")).toEqual([
      'policies.payments.retries.retryOn: "timeout" without a perTryTimeout never retries: each try may use the whole timeout 1s, so one that times out leaves no time for another',
    ]);
  });

  it("flags a retry budget that can never bind at the scenario's rate", () => {
    expect(lint("{ retries: { attempts: 2, budget: { ratio: 0.2, minPerSecond: 50 } } }")).toEqual([
      "policies.payments.retries.budget: can never bind at this load: the busiest caller's sidecar sends about 50 requests/s and could retry 50/s at most, within the 60/s the budget allows (ratio 0.2 × requests + minPerSecond 50)",
    ]);
    expect(lint("{ retries: { attempts: 1, budget: {} } }")).toEqual([
      "policies.payments.retries.budget: has nothing to limit: attempts 1 allows no retry",
    ]);
  });

  it("flags health checks too slow to act during the run", () => {
    expect(lint("{ healthCheck: { interval: 10s, unhealthyAfter: 2 } }")).toEqual([
      "policies.payments.healthCheck: 2 failed checks every 10s take 20s, not shorter than the load (20s): a failing replica is never taken out during the run",
    ]);
  });
});
