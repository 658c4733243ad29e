// The HAProxy data plane's conformance harness: the plan's pods on real Docker through
// startTopology, every sidecar line parsed as it arrives, and everything removed by run id.
import type Docker from "dockerode";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import type { ConformanceHarness, StartedMesh } from "../../src/dataplane/conformance/index.js";
import type { AccessLogEntry, MeshEvent } from "../../src/dataplane/types.js";
import type { ExecutionPlan } from "../../src/plan/types.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { startTopology } from "../../src/runtime/topology.js";

/** Every run id a policy test creates starts with this (labels `meshquake.run-id=dev-pol-...`). */
export const POLICY_RUN_PREFIX = "dev-pol-";

export function haproxyHarness(docker: Docker, image: string, log: (line: string) => void = console.log): ConformanceHarness & { runIds: string[] } {
  const runIds: string[] = [];
  const tag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  return {
    dataPlane: haproxyDataPlane,
    image,
    runIds,
    log,
    runId(caseName: string): string {
      const id = `${POLICY_RUN_PREFIX}${caseName.slice(0, 24).replace(/-+$/, "")}-${tag}`;
      runIds.push(id);
      return id;
    },
    async start(plan: ExecutionPlan): Promise<StartedMesh> {
      const entries: AccessLogEntry[] = [];
      const events: MeshEvent[] = [];
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await topology?.stopLogs().catch(() => {});
        const r = await cleanLeftovers(docker, plan.runId);
        if (r.errors.length) throw new Error(`cleaning up ${plan.runId}: ${r.errors.join("; ")}`);
      };
      let topology: Awaited<ReturnType<typeof startTopology>> | null = null;
      try {
        topology = await startTopology(docker, plan, {
          onSidecarLine: (_pod, line) => {
            const e = haproxyDataPlane.parseLogLine(line);
            if (e) {
              entries.push(e);
              return;
            }
            const ev = haproxyDataPlane.parseEventLine?.(line);
            if (ev) events.push(ev);
          },
        });
      } catch (err) {
        await stop();
        throw err;
      }
      const started = topology;
      const pod = (id: string) => {
        const p = started.pods.find((x) => x.plan.id === id);
        if (!p) throw new Error(`no pod ${id} in ${plan.runId}`);
        return p;
      };
      return {
        scenario: plan.scenario,
        dataPlane: haproxyDataPlane,
        ingressUrl: started.ingressUrl,
        admin: (id) => pod(id).admin,
        entries: () => [...entries],
        events: () => [...events],
        async stopApp(id) {
          await docker.getContainer(pod(id).ids.app).stop({ t: 2 });
        },
        async startApp(id) {
          await docker.getContainer(pod(id).ids.app).start();
        },
        stop,
      };
    },
  };
}
