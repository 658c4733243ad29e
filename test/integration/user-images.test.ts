// A user's own image, meshed: fixtures/tiny-server (not the fixture) built by meshquake from its
// Dockerfile, run behind the same transparent sidecar, with depends_on order, a fault and checks.
// Every container and network carries meshquake.run-id=dev-usr-<x> and is removed, even on failure.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import type { AccessLogEntry } from "../../src/dataplane/types.js";
import { buildPlan } from "../../src/plan/plan.js";
import type { RunReport } from "../../src/model/run-report.js";
import { removeRun, runInTest } from "./scenario-runs.js";
import { ensureBaseImage } from "../../src/runtime/base-image.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { startTopology, type StartedTopology } from "../../src/runtime/topology.js";
import { ensureUserImages } from "../../src/runtime/user-images.js";
import { parseScenario, readFileOrNull, readScenario } from "../../src/scenario/load-scenario.js";
import type { ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "./docker-env.js";

const docker = testDocker();
const runIds: string[] = [];
const runId = (what: string) => {
  const id = `dev-usr-${what}-${process.pid}`;
  runIds.push(id);
  return id;
};
const log = () => {};

function parse(file: string, text: string): ResolvedScenario {
  const { scenario, problems } = parseScenario(file, text, { readFile: (p) => readFileOrNull(join(PROJECT_ROOT, p)), allowOutsideImports: true });
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return scenario!;
}

async function run(scenario: ResolvedScenario, id: string): Promise<RunReport> {
  return runInTest(scenario, id, log);
}

beforeAll(async () => {
  await testImage();
});

afterAll(async () => {
  for (const id of runIds) await removeRun(id);
});

describe("a user image in a live pod", () => {
  const id = runId("topo");
  let topology: StartedTopology | null = null;
  const entries: AccessLogEntry[] = [];
  let scenario: ResolvedScenario;

  beforeAll(async () => {
    scenario = parse(
      "scenarios/tiny-topology.yaml",
      `name: tiny-topology
services:
  web: { build: ../fixtures/tiny-server, port: 7070, health: /health, env: { NAME: web, UPSTREAM: "http://store:7070/item" }, calls: [store], dependsOn: [store] }
  store: { build: ../fixtures/tiny-server, replicas: 2, port: 7070, env: { NAME: store } }
load: { target: web }
`,
    );
    const { images } = await ensureUserImages(docker, scenario.services, { log, base: () => ensureBaseImage(docker, { log }) });
    const plan = buildPlan({ scenario, runId: id, image: await testImage(), dataPlane: haproxyDataPlane, userImages: images });
    topology = await startTopology(docker, plan, {
      onSidecarLine: (_pod, line) => {
        const e = haproxyDataPlane.parseLogLine(line);
        if (e) entries.push(e);
      },
    });
  });

  afterAll(async () => {
    await topology?.stopLogs();
    await cleanLeftovers(docker, id);
  });

  it("only the app container runs the user's image, as the image's own user; the proxy container runs the mesh image", async () => {
    const mesh = await testImage();
    const containers = await docker.listContainers({ filters: { label: [`meshquake.run-id=${id}`] } });
    expect(containers).toHaveLength(3 * 2);
    for (const c of containers) {
      const role = c.Labels["meshquake.role"];
      if (role === "app") expect(c.Image).toMatch(/^meshquake\/app:[0-9a-f]{12}$/);
      else expect(c.Image).toBe(mesh);
    }
    const app = containers.find((c) => c.Labels["meshquake.role"] === "app")!;
    expect((await docker.getContainer(app.Id).inspect()).Config.User).toBe("10001");
  });

  it("the unchanged app calls http://store:7070/item and the mesh carries it through both sidecars", async () => {
    const from = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${topology!.ingressUrl}/`, { signal: AbortSignal.timeout(5000) });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { from: string; upstream: { from: string } };
      expect(body.from).toBe("web");
      from.add(body.upstream.from);
    }
    expect(from).toEqual(new Set(["store"]));
    await new Promise((r) => setTimeout(r, 300));
    const outbound = entries.filter((e) => e.pod === "web-0" && e.direction === "outbound" && e.route === "store");
    expect(outbound.length).toBeGreaterThanOrEqual(6);
    // Round-robin over both store replicas, by the caller's sidecar.
    expect(new Set(outbound.map((e) => e.upstream))).toEqual(new Set(["store-0", "store-1"]));
    expect(entries.filter((e) => e.pod.startsWith("store-") && e.direction === "inbound" && e.from === "web").length).toBeGreaterThanOrEqual(6);
  });

  it("dependsOn: web's app started only after every store replica was ready", async () => {
    const apps = await Promise.all(topology!.pods.map(async (p) => ({ id: p.plan.id, started: Date.parse((await docker.getContainer(p.ids.app).inspect()).State.StartedAt) })));
    const web = apps.find((a) => a.id === "web-0")!.started;
    const stores = apps.filter((a) => a.id.startsWith("store-")).map((a) => a.started);
    expect(web).toBeGreaterThan(Math.max(...stores));
  });
});

describe("scenarios/tiny-server.yaml, run for real", () => {
  it("a fault on one store replica, hidden by web's retries: every check passes", async () => {
    const { scenario, problems } = await readScenario(join(PROJECT_ROOT, "scenarios/tiny-server.yaml"), { allowOutsideImports: true });
    expect(problems).toEqual([]);
    const id = runId("tiny");
    const report = await run(scenario!, id);
    expect(report.errors).toEqual([]);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ["error_rate < 1% @ fault:store-0-down", "passed"],
      ["error_rate < 1% @ whole", "passed"],
      ["p(99) < 300ms @ whole", "passed"],
    ]);
    // 60 req/s for 8 s
    expect(report.client.requests).toBeGreaterThan(400);
    expect(report.faults[0]!.observedPercent).toBe(1);
    const edge = report.edges.find((e) => e.from === "web" && e.to === "store")!;
    const failing = report.replicas.find((r) => r.service === "store" && r.index === 0)!;
    expect(failing.statusCounts["503"]).toBeGreaterThan(50);
    expect(edge.retries).toBeGreaterThanOrEqual(failing.statusCounts["503"]!);
    expect(edge.statusCounts).toEqual({ "200": edge.requests });
    expect(await labelled(docker, id)).toEqual({ containers: 0, networks: 0 });
    console.log(
      `tiny-server: ${report.client.requests} requests, ${report.client.errors} errors, store-0 answered 503 ${failing.statusCounts["503"]} times, ` +
        `web retried ${edge.retries} (attempts ${edge.attempts} for ${edge.requests} requests), setup ${report.timings.setupMs} ms`,
    );
  });
});

describe("an app that cannot start", () => {
  it("exits while starting: setup fails at once with its exit code and last log lines, not after the readiness timeout", async () => {
    const scenario = parse(
      "scenarios/crash.yaml",
      `name: crash\nservices:\n  api:\n    build: ../fixtures/tiny-server\n    command: ["node", "-e", "console.error('no config'); process.exit(3)"]\n`,
    );
    const id = runId("crash");
    const { images } = await ensureUserImages(docker, scenario.services, { log, base: () => ensureBaseImage(docker, { log }) });
    const plan = buildPlan({ scenario, runId: id, image: await testImage(), dataPlane: haproxyDataPlane, userImages: images });
    const t0 = Date.now();
    try {
      await expect(startTopology(docker, plan, { onSidecarLine: () => {} })).rejects.toThrow(
        /api-0: the app \(meshquake\/app:[0-9a-f]{12}\) exited with code 3 before it was ready\n {2}last log lines:\n {4}\| no config/,
      );
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      await cleanLeftovers(docker, id);
    }
  });
});

describe("images that cannot be had", () => {
  it("an image: that does not exist locally fails setup with exit 3, naming it; nothing is created", async () => {
    const scenario = parse(
      "scenarios/absent.yaml",
      "name: absent-image\nservices:\n  web: { calls: [ledger] }\n  ledger:\n    image: meshquake-test/absent-ledger:1.4\n    port: 8080\nload: { duration: 1s }\n",
    );
    const id = runId("absent");
    const report = await run(scenario, id);
    expect(report.exitCode).toBe(3);
    expect(report.verdict).toBe("error");
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.stage).toBe("images");
    expect(report.errors[0]!.message).toMatch(
      /^scenarios\/absent\.yaml:5:5 services\.ledger\.image: image "meshquake-test\/absent-ledger:1\.4" does not exist locally, and pulling it failed: .+\. Build or load it first/,
    );
    expect(await labelled(docker, id)).toEqual({ containers: 0, networks: 0 });
  });

  it("a Dockerfile FROM an image that is not here fails the build with the reason and the way out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-usr-build-"));
    try {
      await writeFile(join(dir, "Dockerfile"), "FROM meshquake-test/no-such-base:1\nCMD [\"true\"]\n");
      const scenario = parse("s.yaml", `name: bad-build\nservices:\n  api: { build: ${JSON.stringify(dir)} }\n`);
      await expect(ensureUserImages(docker, scenario.services, { log, base: () => ensureBaseImage(docker, { log }) })).rejects.toThrow(
        /s\.yaml:3:8 services\.api\.build: docker build of .*Dockerfile failed: [\s\S]*must exist locally: nothing can be pulled here/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
