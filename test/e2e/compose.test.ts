// The top-level docker-compose.yml, meshed: the CLI validates and plans scenarios/compose-demo.yaml
// without Docker, and one short real run meshes the compose services (built from their
// Dockerfile, started in depends_on order) under the scenario's fault and checks.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeRun, runInTest } from "../integration/scenario-runs.js";
import { readScenario } from "../../src/scenario/load-scenario.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "../integration/docker-env.js";
import { cli } from "./run-cli.js";


const docker = testDocker();
const runId = `dev-usr-compose-${process.pid}`;

afterAll(async () => {
  await removeRun(runId);
});

describe("compose import through the CLI (no Docker)", () => {
  it("validate: valid, with what compose says and meshquake cannot honour as located warnings", async () => {
    const r = await cli(["validate", "scenarios/compose-demo.yaml", "--allow-outside-imports"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^scenarios\/compose-demo\.yaml: valid \(compose-demo\) · load: open model, 50 req\/s, constant arrivals/);
    // What compose says that meshquake cannot honour, located in the compose file; the plan's own
    // warnings (data-plane approximations) are acknowledged in the scenario, so nothing else.
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines.filter((l) => l.startsWith("docker-compose.yml"))).toEqual([
      expect.stringMatching(/^docker-compose\.yml:24:5 warning: services\.frontend\.healthcheck\.interval: healthcheck interval is not honoured/),
      expect.stringMatching(/^docker-compose\.yml:32:5 warning: services\.frontend\.ports: published ports are not honoured/),
    ]);
    expect(lines.filter((l) => !l.startsWith("docker-compose.yml"))).toEqual([]);
  });

  it("plan: every compose service and replica as a pod, with its image to build and its start order", async () => {
    const r = await cli(["plan", "scenarios/compose-demo.yaml", "--no-configs", "--allow-outside-imports"]);
    expect(r.code, r.stderr).toBe(0);
    const pod = (id: string) => r.stdout.split("\n").find((l) => l.trimStart().startsWith(`${id} `));
    expect(pod("frontend-0")).toMatch(/app :8080 image <build fixtures\/service\/Dockerfile> after checkout calls checkout\s+\[ingress/);
    expect(pod("checkout-0")).toMatch(/after payments, inventory calls payments, inventory/);
    expect(["payments-0", "payments-1", "payments-2", "inventory-0"].map((id) => pod(id) !== undefined)).toEqual([true, true, true, true]);
    expect(r.stdout).toMatch(/2000 ms\s+apply\s+payments-0-down\s+abort on payments\[0\] 100%/);
  });

  it("an invalid import points into the compose file", async () => {
    const r = await cli(["validate", "fixtures/invalid/40-compose-import.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`fixtures/invalid/imports/compose-problems.yml:11:3 services.worker: "worker" has neither "image" nor "build"`);
  });
});

describe("scenarios/compose-demo.yaml, run for real", () => {
  beforeAll(async () => {
    await testImage();
  });

  it("builds the compose services, meshes them in depends_on order, and checkout's retries hide payments-0", async () => {
    const { scenario } = await readScenario(join(PROJECT_ROOT, "scenarios/compose-demo.yaml"), { allowOutsideImports: true });
    const report = await runInTest(scenario!, runId);
    expect(report.errors).toEqual([]);
    expect(report.verdict).toBe("passed");
    expect(report.checks.every((c) => c.status === "passed")).toBe(true);
    // 50 req/s for 8 s, through frontend → checkout → payments and inventory, every hop meshed.
    expect(report.client.requests).toBeGreaterThan(350);
    const edge = (from: string, to: string) => report.edges.find((e) => e.from === from && e.to === to)!;
    expect(edge("frontend", "checkout").requests).toBeGreaterThanOrEqual(report.client.requests);
    expect(edge("checkout", "inventory").requests).toBeGreaterThanOrEqual(report.client.requests);
    const payments = edge("checkout", "payments");
    // deploy.replicas: 3, round-robin; payments-0 failed while the fault lasted, and each failure was retried.
    expect(Object.keys(payments.byReplica).sort()).toEqual(["0", "1", "2"]);
    const failing = report.replicas.find((r) => r.service === "payments" && r.index === 0)!;
    expect(failing.statusCounts["503"]).toBeGreaterThan(30);
    expect(payments.retries).toBeGreaterThanOrEqual(failing.statusCounts["503"]!);
    expect(payments.statusCounts).toEqual({ "200": payments.requests });
    expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
    console.log(
      `compose-demo: ${report.client.requests} requests, ${report.client.errors} errors; payments-0 answered 503 ${failing.statusCounts["503"]} times, ` +
        `checkout retried ${payments.retries}; setup ${report.timings.setupMs} ms (apps ${report.timings.steps?.["setup.apps"]} ms)`,
    );
  });
});
