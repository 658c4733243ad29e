import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import type { AccessLogEntry } from "../../src/dataplane/types.js";
import { buildPlan } from "../../src/plan/plan.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { startTopology, type StartedTopology } from "../../src/runtime/topology.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import type { ResolvedFault, ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, testDocker, testImage } from "./docker-env.js";

// A small real topology: frontend -> payments x2, each replica a pod with its own sidecar.
const SCENARIO = `
name: topology-test
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 10, duration: 5s }
faults:
  - { name: front-abort, kind: abort, target: frontend, percent: 100, status: 418, at: 1s, duration: 2s }
`;

const runId = `mq-itest-${process.pid}`;
let scenario: ResolvedScenario;
let topology: StartedTopology;
const entries: AccessLogEntry[] = [];
const docker = testDocker();

beforeAll(async () => {
  const parsed = parseScenario("topology-test.yaml", SCENARIO);
  expect(parsed.problems.filter((p) => p.severity === "error")).toEqual([]);
  scenario = parsed.scenario!;
  const plan = buildPlan({ scenario, runId, image: await testImage(), dataPlane: haproxyDataPlane });
  topology = await startTopology(docker, plan, {
    onSidecarLine: (_pod, line) => {
      const e = haproxyDataPlane.parseLogLine(line);
      if (e) entries.push(e);
    },
  });
});

afterAll(async () => {
  await topology?.stopLogs();
  await cleanLeftovers(docker, runId);
  expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
});

const get = async () => {
  const r = await fetch(`${topology.ingressUrl}/`, { signal: AbortSignal.timeout(5000) });
  return { status: r.status, body: (await r.json().catch(() => null)) as { service: string; calls: { servedBy: string }[] } | null };
};

describe("a meshed topology on real Docker", () => {
  it("every pod is up: its proxy and app containers running, labelled with the run id", async () => {
    const list = await docker.listContainers({ filters: { label: [`meshquake.run-id=${runId}`] } });
    expect(list).toHaveLength(3 * 2);
    expect(new Set(list.map((c) => c.Labels["meshquake.role"]))).toEqual(new Set(["proxy", "app"]));
  });

  it("transparent interception carries the app's call through both sidecars", async () => {
    const servedBy = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = await get();
      expect(r.status).toBe(200);
      expect(r.body?.service).toBe("frontend");
      servedBy.add(r.body!.calls[0]!.servedBy);
    }
    // Round-robin across both replicas: the frontend app called http://payments:8080/ and the mesh balanced it.
    expect(servedBy).toEqual(new Set(["payments-0", "payments-1"]));
    await new Promise((r) => setTimeout(r, 300));
    const out = entries.filter((e) => e.pod === "frontend-0" && e.direction === "outbound" && e.route === "payments");
    const inb = entries.filter((e) => e.pod.startsWith("payments-") && e.direction === "inbound" && e.from === "frontend");
    expect(out.length).toBeGreaterThanOrEqual(8);
    expect(inb.length).toBeGreaterThanOrEqual(8);
    expect(new Set(out.map((e) => e.upstream))).toEqual(new Set(["payments-0", "payments-1"]));
  });

  it("an abort at 100% turns ingress responses into its status, and back when reverted", async () => {
    const fault = scenario.faults[0] as ResolvedFault;
    const frontend = topology.pods.find((p) => p.plan.id === "frontend-0")!;
    await haproxyDataPlane.applyFault(frontend.admin, { fault, untilEpochMs: Date.now() + 60_000 });
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(418);
    await haproxyDataPlane.revertFault(frontend.admin, fault);
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(200);
  });
});
