import { describe, expect, it } from "vitest";
import { buildPlan } from "../plan/plan.js";
import { haproxyDataPlane } from "../dataplane/haproxy/index.js";
import { formatProblem } from "./format-problem.js";
import { parseScenario } from "./load-scenario.js";

const CANARY = `name: canary
services:
  frontend: { calls: [payments] }
  payments:
    latency: 2ms
    versions:
      v1: { replicas: 2 }
      v2: { replicas: 1, errorRate: 0.5, latency: 5ms..9ms }
policies:
  payments:
    split: { v1: 90, v2: 10 }
    routes: [{ match: { header: X-Canary, value: "1" }, to: v2 }]
load: { target: frontend, rate: 10, duration: 5s }
faults:
  - { name: v2-down, kind: abort, target: payments, version: v2, percent: 100, status: 503, at: 1s, duration: 2s }
`;

const problems = (text: string) => parseScenario("s.yaml", text).problems.map(formatProblem);

describe("versions of a service", () => {
  it("resolve: replicas numbered across versions, each version's knobs, the split as fractions, faults by version", () => {
    const { scenario, problems: found } = parseScenario("s.yaml", CANARY);
    expect(found).toEqual([]);
    const payments = scenario!.services.find((s) => s.name === "payments")!;
    expect(payments.replicas).toBe(3);
    expect(payments.versions).toEqual([
      { name: "v1", replicas: [0, 1], latency: { minMs: 2, maxMs: 2 }, errorRate: 0 },
      { name: "v2", replicas: [2], latency: { minMs: 5, maxMs: 9 }, errorRate: 0.5 },
    ]);
    expect(scenario!.policies["payments"]!.split).toEqual({ v1: 0.9, v2: 0.1 });
    expect(scenario!.policies["payments"]!.routes).toEqual([{ match: { header: "x-canary", value: "1" }, to: "v2" }]);
    expect(scenario!.faults[0]!.replicas).toEqual([2]);
  });

  it("plan: each replica its version, its knobs, its version alias; the fixture passes the route's header on", () => {
    const { scenario } = parseScenario("s.yaml", CANARY);
    const plan = buildPlan({ scenario: scenario!, runId: "mq-t", image: "img", dataPlane: haproxyDataPlane });
    const pods = plan.pods.filter((p) => p.service === "payments");
    expect(pods.map((p) => [p.id, p.version, p.aliases])).toEqual([
      ["payments-0", "v1", ["payments-0", "payments", "payments-v1-0"]],
      ["payments-1", "v1", ["payments-1", "payments", "payments-v1-1"]],
      ["payments-2", "v2", ["payments-2", "payments", "payments-v2-0"]],
    ]);
    expect(pods.map((p) => [p.app.env["MQ_ERROR_RATE"], p.app.env["MQ_LATENCY_MAX_MS"]])).toEqual([["0", "2"], ["0", "2"], ["0.5", "9"]]);
    expect(plan.pods.find((p) => p.service === "frontend")!.app.env["MQ_FORWARD"]).toBe("x-canary");
  });

  it("refuses what cannot mean anything, located, saying what is allowed", () => {
    expect(problems(CANARY.replace("    versions:\n", "    replicas: 3\n    versions:\n"))).toEqual([
      "s.yaml:6:5 services.payments.replicas: with versions, replicas are given per version (services.payments.versions.<version>.replicas); remove this one",
    ]);
    expect(problems(CANARY.replace("split: { v1: 90, v2: 10 }", "split: { v1: 90, v3: 10 }"))).toEqual([
      `s.yaml:11:22 policies.payments.split.v3: unknown version "v3" of "payments"; did you mean "v1"? Its versions: "v1", "v2".`,
    ]);
    expect(problems(CANARY.replace("split: { v1: 90, v2: 10 }", "split: { v1: 90, v2: 20 }"))).toEqual([
      "s.yaml:11:12 policies.payments.split: the weights add up to 110; a split's weights add up to 100",
    ]);
    expect(problems(CANARY.replace("header: X-Canary", "header: x.canary"))[0]).toMatch(/routes\[0\]\.match\.header: a route's header name is letters, digits, - and _$/);
    expect(problems(CANARY.replace("version: v2,", "version: v9,"))).toEqual([
      `s.yaml:15:62 faults[0].version: unknown version "v9" of "payments"; did you mean "v1"? Its versions: "v1", "v2".`,
    ]);
    expect(problems(CANARY.replace("split: { v1: 90, v2: 10 }", "split: { v1: 90, v2: 10 }\n    loadBalancer: peak-ewma"))).toEqual([
      "s.yaml:11:5 policies.payments.split: a split cannot be combined with loadBalancer peak-ewma: its latency picker does not weigh versions; use round-robin, least-request or random",
    ]);
  });
});

describe("shift", () => {
  const shift = (entry: string) => `${CANARY}  - ${entry}\n`;

  it("resolves to the callers' new split, as fractions, on the timeline like a fault", () => {
    const { scenario, problems: found } = parseScenario("s.yaml", shift("{ name: half, kind: shift, target: payments, split: { v1: 50, v2: 50 }, at: 2s }"));
    expect(found).toEqual([]);
    const half = scenario!.faults.find((f) => f.name === "half")!;
    expect(half).toMatchObject({ kind: "shift", target: "payments", replicas: [0, 1, 2], atMs: 2000, durationMs: 3000, attributes: { split: { v1: 0.5, v2: 0.5 } } });
  });

  it("refuses a shift with nothing to shift", () => {
    expect(problems(shift("{ name: s, kind: shift, target: frontend, split: { v1: 100 } }"))).toEqual([
      's.yaml:16:37 faults[1].target: "frontend" has no versions to shift between (services.frontend.versions)',
    ]);
    expect(problems(shift("{ name: s, kind: shift, target: payments, split: { v1: 50, v3: 50 } }"))).toEqual([
      's.yaml:16:64 faults[1].split.v3: unknown version "v3" of "payments"; did you mean "v1"? Its versions: "v1", "v2".',
    ]);
  });
});
