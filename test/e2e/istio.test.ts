// A real Istio VirtualService + DestinationRule (fixtures/istio), checked locally: the CLI shows
// the import and its located warnings, the plan carries the policy, and two short real runs of the
// compose demo with one failing payments replica measure it in behaviour: with the Istio policy its
// retries hide the failure and outlier detection takes the replica out; without it, a third of
// the requests fail.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import { buildPlan } from "../../src/plan/plan.js";
import type { RunReport } from "../../src/model/run-report.js";
import { removeRun, runInTest } from "../integration/scenario-runs.js";
import { parseScenario, readFileOrNull } from "../../src/scenario/load-scenario.js";
import type { ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "../integration/docker-env.js";
import { cli } from "./run-cli.js";


const docker = testDocker();
const runIds = [`dev-usr-istio-${process.pid}`, `dev-usr-noistio-${process.pid}`];
const read = (p: string) => readFileOrNull(join(PROJECT_ROOT, p));

async function scenario(file: string, edit: (text: string) => string = (t) => t): Promise<ResolvedScenario> {
  const text = edit(await readFile(join(PROJECT_ROOT, file), "utf8"));
  const { scenario, problems } = parseScenario(file, text, { readFile: read, allowOutsideImports: true });
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return scenario!;
}

async function run(s: ResolvedScenario, runId: string): Promise<RunReport> {
  const report = await runInTest(s, runId);
  expect(report.errors).toEqual([]);
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
  return report;
}

afterAll(async () => {
  for (const id of runIds) await removeRun(id);
});

describe("Istio import through the CLI (no Docker)", () => {
  it("validate: valid; what is not imported is listed with the reason, located in the Istio files", async () => {
    const r = await cli(["validate", "scenarios/istio-policy.yaml", "--allow-outside-imports"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines).toContain(
      `fixtures/istio/virtualservice.yaml:22:18 warning: spec.http[0].retries.retryOn: retryOn "refused-stream" is not imported: meshquake has no condition for an HTTP/2 REFUSED_STREAM alone (and an http service's HTTP/1.1 hops have no streams)`,
    );
    expect(lines.some((l) => l.startsWith("fixtures/istio/destinationrule.yaml:14:9 warning: spec.trafficPolicy.connectionPool.tcp.connectTimeout:"))).toBe(true);
    expect(lines.some((l) => l.startsWith("scenarios/istio-policy.yaml:14:3 warning: policies.istio: no VirtualService names"))).toBe(true);
  });

  it("plan: the imported retries, breaker and outlier detection are in checkout's rendered sidecar", async () => {
    const r = await cli(["plan", "scenarios/istio-policy.yaml", "--allow-outside-imports"]);
    expect(r.code, r.stderr).toBe(0);
    const checkout = r.stdout.slice(r.stdout.indexOf("--- checkout-0:"), r.stdout.indexOf("--- payments-0:"));
    expect(checkout).toContain("retry-on 500 501 502 503 504");
    expect(checkout).toMatch(/server r0 \S+ maxconn 34/);
    expect(checkout).toMatch(/setenv MQ_OUTLIER "payments:3:1000:15000:50:/);
  });

  it("the resolved policy: Istio attempts 2 = meshquake attempts 3, and every DestinationRule field", async () => {
    const s = await scenario("scenarios/istio-policy.yaml");
    expect(s.policies.payments).toEqual({
      timeoutMs: 2000,
      retries: { attempts: 3, perTryTimeoutMs: 500, retryOn: ["5xx", "connect-failure"], budget: null },
      circuitBreaker: { maxConnections: 100, maxPending: 50 },
      outlierDetection: { consecutive5xx: 3, intervalMs: 1000, baseEjectionTimeMs: 15_000, maxEjectionPercent: 0.5 },
      loadBalancer: "round-robin",
      healthCheck: null, rateLimit: null,
      // No mTLS in this scenario: every destination is plaintext.
      tls: "disable",
    });
    const plan = buildPlan({ scenario: s, runId: "x", image: "m", dataPlane: haproxyDataPlane });
    expect(plan.pods.find((p) => p.id === "checkout-0")!.sidecar.files[0]!.content).toContain("MQ_OUTLIER");
  });
});

describe("the Istio policy, in behaviour", () => {
  beforeAll(async () => {
    await testImage();
  });

  it("with it: retries hide payments-0's 503s and outlier detection ejects it; without it, a third of requests fail", async () => {
    const withIstio = await run(await scenario("scenarios/istio-policy.yaml"), runIds[0]!);
    const without = await run(
      await scenario("scenarios/istio-policy.yaml", (t) => t.replace(/^policies:\n(?: {2}.*\n)+/m, "").replace("name: istio-policy", "name: istio-policy-none")),
      runIds[1]!,
    );
    const window = (r: RunReport) => r.checks.find((c) => c.name === "error_rate < 1% @ fault:payments-0-down")!;
    const payments0 = (r: RunReport) => r.replicas.find((x) => x.service === "payments" && x.index === 0)!;
    const edge = (r: RunReport) => r.edges.find((e) => e.from === "checkout" && e.to === "payments")!;
    const failedAt0 = (r: RunReport) => payments0(r).statusCounts["503"] ?? 0;

    // With the imported policy: no client error while payments-0 fails, because each of its 503s was retried...
    expect(window(withIstio).status).toBe("passed");
    expect(window(withIstio).observed).toBe(0);
    expect(failedAt0(withIstio)).toBeGreaterThanOrEqual(3);
    expect(edge(withIstio).retries).toBeGreaterThanOrEqual(failedAt0(withIstio));
    // ...and after consecutive5xxErrors: 3 it left rotation for baseEjectionTime (15 s, longer than the fault):
    // a handful of failing tries instead of a third of ~300.
    expect(failedAt0(withIstio)).toBeLessThanOrEqual(12);

    // Without it: a plain proxy, no retries, no ejection; round-robin sends a third of the calls to payments-0.
    expect(window(without).status).toBe("failed");
    expect(window(without).observed).toBeGreaterThan(0.2);
    expect(edge(without).retries).toBe(0);
    expect(failedAt0(without)).toBeGreaterThan(60);

    console.log(
      `istio-policy: fault-window error rate ${window(withIstio).observed} with the Istio policy (payments-0 answered 503 ` +
        `${failedAt0(withIstio)} times, ${edge(withIstio).retries} retries) vs ${Number(window(without).observed).toFixed(3)} without it ` +
        `(payments-0 answered 503 ${failedAt0(without)} times, no retries)`,
    );
  });
});
