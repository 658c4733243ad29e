import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { parseScenario } from "./load-scenario.js";
import { resolveScenario } from "./resolve.js";
import { scenarioSchema } from "./spec.js";
import type { ResolvedScenario } from "./types.js";

const DEMO_FILE = "fixtures/valid/demo.yaml";
const DEMO_TEXT = readFileSync(fileURLToPath(new URL(`../../${DEMO_FILE}`, import.meta.url)), "utf8");

function resolved(text: string, seed?: number): ResolvedScenario {
  const { scenario, problems } = parseScenario("inline.yaml", text, { seed });
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  if (!scenario) throw new Error("expected a scenario");
  return scenario;
}

describe("resolveScenario", () => {
  it("resolves the demo scenario", () => {
    const { scenario } = parseScenario(DEMO_FILE, DEMO_TEXT);
    expect(scenario?.source).toEqual({ file: DEMO_FILE, text: DEMO_TEXT });
    expect({ ...scenario, source: undefined }).toMatchSnapshot();
  });

  it("fills every default for a minimal scenario", () => {
    const scenario = resolved("name: minimal\nservices:\n  frontend:\n");
    expect({ ...scenario, source: undefined }).toEqual({
      name: "minimal",
      description: "",
      seed: 1,
      dataPlane: "haproxy",
      source: undefined,
      mtls: false,
      services: [{ name: "frontend", replicas: 1, calls: [], latency: { minMs: 1, maxMs: 1 }, errorRate: 0, port: 8080, health: "/healthz" }],
      policies: {
        frontend: { timeoutMs: 30_000, retries: null, circuitBreaker: null, outlierDetection: null, loadBalancer: "round-robin", healthCheck: null, rateLimit: null, tls: "disable" },
      },
      load: {
        target: "frontend",
        // Neither model nor connections: open, capped at rate × timeout in flight.
        model: "open",
        rate: 50,
        arrivals: "constant",
        maxInFlight: 500,
        connections: 500,
        timeoutMs: 10_000,
        maxLagMs: 10,
        durationMs: 30_000,
        protocol: "http",
        requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }],
        grpc: null,
      },
      faults: [],
      checks: [],
      acknowledge: [],
    });
  });

  it("a gRPC load: its call with the proto beside the scenario (default: the fixture's), metadata names lowercase, one POST request naming its path", () => {
    const { scenario } = parseScenario(
      "/scenarios/grpc.yaml",
      "name: g\nservices: { frontend: { protocol: grpc } }\nload: { protocol: grpc, method: meshquake.Fixture/Call, message: { payload: hi }, metadata: { X-Tenant: a }, proto: protos/my.proto }\n",
      { readFile: () => "syntax = \"proto3\";" },
    );
    expect(scenario?.load).toMatchObject({
      protocol: "grpc",
      model: "open",
      grpc: { method: "meshquake.Fixture/Call", message: { payload: "hi" }, metadata: { "x-tenant": "a" }, protoFile: "/scenarios/protos/my.proto" },
      requests: [{ method: "POST", path: "/meshquake.Fixture/Call", headers: { "x-tenant": "a" }, body: null, weight: 1 }],
    });
    const fixture = resolved("name: g\nservices: { frontend: { protocol: grpc } }\nload: { protocol: grpc, method: meshquake.Fixture/Call }\n").load.grpc;
    expect(fixture).toMatchObject({ message: {}, metadata: {} });
    expect(fixture?.protoFile).toMatch(/\/fixtures\/service\/meshquake\.proto$/);
    expect(resolved("name: g\nservices: { frontend: {} }\n").load).toMatchObject({ protocol: "http", grpc: null });
  });

  it("gives each load its model: open by default, closed when it sets connections, as written otherwise", () => {
    const load = (yaml: string) => resolved(`name: m\nservices: { frontend: {} }\nload: ${yaml}\n`).load;
    expect(load("{ rate: 200 }")).toMatchObject({ model: "open", arrivals: "constant", maxInFlight: 2000, connections: 2000, timeoutMs: 10_000 });
    expect(load("{ rate: 100, connections: 8 }")).toMatchObject({ model: "closed", connections: 8, maxInFlight: 8 });
    expect(load("{ model: closed, rate: 100 }")).toMatchObject({ model: "closed", connections: 8, maxInFlight: 8 });
    expect(load("{ model: open, rate: 2.5, arrivals: poisson, maxInFlight: 40, timeout: 2s }")).toMatchObject({
      model: "open",
      rate: 2.5,
      arrivals: "poisson",
      maxInFlight: 40,
      connections: 40,
      timeoutMs: 2000,
    });
    // The lag it tolerates: the mean gap between requests, 1 ms to 10 ms.
    expect(load("{ rate: 200 }").maxLagMs).toBe(5);
    expect(load("{ rate: 50 }").maxLagMs).toBe(10);
    expect(load("{ rate: 5000 }").maxLagMs).toBe(1);
    expect(load("{ rate: 200, maxLag: 2ms }").maxLagMs).toBe(2);
    // rate × timeout, at least 16 and at most 20 000 sockets.
    expect(load("{ rate: 1 }").maxInFlight).toBe(16);
    expect(load("{ rate: 5000, timeout: 30s }").maxInFlight).toBe(20_000);
  });

  it("fills policy defaults inside each block the scenario opens", () => {
    const scenario = resolved(`
name: policy-defaults
services:
  frontend: { calls: [payments] }
  payments: { health: /ready }
policies:
  payments:
    retries: { budget: {} }
    circuitBreaker: { maxConnections: 10 }
    outlierDetection: {}
    healthCheck: {}
    rateLimit: { requestsPerSecond: 12.5 }
`);
    expect(scenario.policies.payments).toEqual({
      timeoutMs: 30_000,
      retries: {
        attempts: 2,
        perTryTimeoutMs: null,
        retryOn: ["5xx", "connect-failure", "reset"],
        budget: { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 },
      },
      circuitBreaker: { maxConnections: 10, maxPending: null },
      outlierDetection: { consecutive5xx: 5, intervalMs: 10_000, baseEjectionTimeMs: 30_000, maxEjectionPercent: 0.1 },
      loadBalancer: "round-robin",
      healthCheck: { path: "/ready", intervalMs: 2000, unhealthyAfter: 3, healthyAfter: 2 },
      // Burst defaults to one second's worth, rounded up.
      rateLimit: { requestsPerSecond: 12.5, burst: 13 },
      tls: "disable",
    });
  });

  it("resolves each destination's tls mode: its own, else mesh.mtls", () => {
    const text = (mesh: string) => `
name: mtls
${mesh}
services:
  a: { calls: [b, c, d] }
  b: {}
  c: {}
  d: {}
policies:
  b: { tls: { mode: disable } }
  c: { tls: { mode: mutual } }
load: { target: a }
`;
    const modes = (s: ReturnType<typeof resolved>) => Object.fromEntries(Object.entries(s.policies).map(([k, p]) => [k, p.tls]));
    const on = resolved(text("mesh: { mtls: true }"));
    expect(on.mtls).toBe(true);
    expect(modes(on)).toEqual({ a: "mutual", b: "disable", c: "mutual", d: "mutual" });
    const off = resolved(text(""));
    expect(off.mtls).toBe(false);
    expect(modes(off)).toEqual({ a: "disable", b: "disable", c: "mutual", d: "disable" });
    expect(modes(resolved(text("mesh: {}")))).toEqual(modes(off));
  });

  it("resolves a ratelimit fault's Retry-After, 1 s by default, and refuses a part of a second", () => {
    const text = (retryAfter: string) => `
name: limits
services: { frontend: { calls: [payments] }, payments: {} }
faults:
  - { name: shed, kind: ratelimit, target: payments, percent: 30${retryAfter} }
`;
    expect(resolved(text("")).faults[0]).toMatchObject({ kind: "ratelimit", probability: 0.3, from: null, attributes: { retryAfterMs: 1000 } });
    expect(resolved(text(", retryAfter: 1m")).faults[0]).toMatchObject({ attributes: { retryAfterMs: 60_000 } });
    const { problems } = parseScenario("inline.yaml", text(", retryAfter: 1500ms"));
    expect(problems.map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`)).toEqual([
      '5:79 faults[0].retryAfter: Retry-After is a whole number of seconds (e.g. "1s", "30s"), found "1500ms"',
    ]);
  });

  it("keeps failFirst only when it scripts failures", () => {
    const services = resolved(`
name: scripted
services: { frontend: { calls: [payments, ledger] }, payments: { failFirst: 2 }, ledger: { failFirst: 0 } }
`).services;
    expect(services.find((s) => s.name === "payments")?.failFirst).toBe(2);
    expect(services.find((s) => s.name === "ledger")).not.toHaveProperty("failFirst");
  });

  it("reads retry-on status codes written as numbers or strings", () => {
    const scenario = resolved(`
name: retry-on
services: { frontend: { calls: [payments] }, payments: {} }
policies: { payments: { retries: { retryOn: [503, "504", timeout] } } }
`);
    expect(scenario.policies.payments?.retries?.retryOn).toEqual(["503", "504", "timeout"]);
  });

  it("resolves fault replicas, probability and timing", () => {
    const scenario = resolved(`
name: faults
services:
  checkout: { calls: [payments] }
  payments: { replicas: 4 }
load: { duration: 1m }
faults:
  - { name: all, kind: abort, target: payments }
  - { name: some, kind: abort, target: payments, replicas: [2, 0], percent: 25, status: 500, at: 10s, duration: 5s }
  - name: first-two
    kind: delay
    target: payments
    count: 2
    delay: 2ms..20ms
    edge: { from: checkout, to: payments }
    match: { header: x-canary, value: "1" }
    at: 50s
`);
    const [all, some, firstTwo] = scenario.faults;
    expect(all).toMatchObject({ kind: "abort", replicas: [0, 1, 2, 3], probability: 1, status: 503, atMs: 0, durationMs: 60_000, from: null });
    expect(some).toMatchObject({ replicas: [0, 2], probability: 0.25, status: 500, atMs: 10_000, durationMs: 5000 });
    expect(firstTwo).toMatchObject({
      kind: "delay",
      replicas: [0, 1],
      delay: { minMs: 2, maxMs: 20 },
      from: "checkout",
      match: { header: "x-canary", value: "1" },
      atMs: 50_000,
      durationMs: 10_000,
      location: { line: 10, col: 5 },
    });
  });

  it("names checks after their expression and window", () => {
    const scenario = resolved(`
name: checks
services: { frontend: {} }
faults: [{ name: boom, kind: abort, target: frontend, at: 5s, duration: 5s }]
checks:
  - slo: "p(99.9) <= 1s"
  - { slo: error_rate < 0.5%, window: recovery:boom }
`);
    expect(scenario.checks.map((c) => c.name)).toEqual(["p(99.9) <= 1s @ whole", "error_rate < 0.5% @ recovery:boom"]);
    expect(scenario.checks[1]).toMatchObject({ window: { kind: "recovery", fault: "boom" }, expression: { threshold: 0.005 } });
  });

  it("takes the seed from the options, then the scenario, then 1", () => {
    const text = "name: seeded\nseed: 42\nservices: { frontend: {} }\n";
    expect(resolved(text).seed).toBe(42);
    expect(resolved(text, 7).seed).toBe(7);
    expect(resolved("name: unseeded\nservices: { frontend: {} }\n").seed).toBe(1);
  });

  it("resolves the kinds and checks this version cannot run yet, for when it can", () => {
    const text = `
name: everything
services:
  checkout: { replicas: 2, calls: [payments] }
  payments: { replicas: 3 }
faults:
  - { name: split, kind: partition, between: [checkout, "payments[1]"], at: 5s, duration: 5s }
  - { name: crash, kind: kill, target: payments, count: 1, restart: false, at: 12s, duration: 2s }
  - { name: thin, kind: bandwidth, target: payments, rate: 1mbit, at: 15s, duration: 2s }
checks:
  - { property: retry_amplification, edge: { from: checkout, to: payments }, max: 1.5 }
  - { property: ejection, target: "payments[0]", within: 3s }
  - { property: failover, fault: split, within: 2s, min: 99% }
`;
    const spec = scenarioSchema.parse(parseDocument(text).toJS());
    const scenario = resolveScenario(spec, { file: "e.yaml", text, locate: () => ({ line: 1, col: 1 }) });
    expect(scenario.faults.map(({ location: _, ...f }) => f)).toEqual([
      {
        name: "split",
        kind: "partition",
        target: "checkout",
        replicas: [0, 1],
        from: null,
        match: null,
        probability: 1,
        atMs: 5000,
        durationMs: 5000,
        attributes: { between: [{ service: "checkout", replica: null }, { service: "payments", replica: 1 }], direction: "both" },
      },
      {
        name: "crash",
        kind: "kill",
        target: "payments",
        replicas: [0],
        from: null,
        match: null,
        probability: 1,
        atMs: 12_000,
        durationMs: 2000,
        attributes: { restart: false },
      },
      {
        name: "thin",
        kind: "bandwidth",
        target: "payments",
        replicas: [0, 1, 2],
        from: null,
        match: null,
        probability: 1,
        atMs: 15_000,
        durationMs: 2000,
        attributes: { rate: "1mbit" },
      },
    ]);
    expect(scenario.checks.map(({ location: _, ...c }) => c)).toEqual([
      {
        kind: "property",
        name: "retry_amplification checkout → payments",
        property: "retry_amplification",
        params: { edge: { from: "checkout", to: "payments" }, max: 1.5 },
      },
      { kind: "property", name: "ejection payments[0]", property: "ejection", params: { target: { service: "payments", replica: 0 }, withinMs: 3000 } },
      { kind: "property", name: "failover fault:split", property: "failover", params: { fault: "split", withinMs: 2000, min: 0.99 } },
    ]);
  });
});
