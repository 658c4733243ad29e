// Faults on a replica's app container through the Docker engine. The pod's proxy container keeps
// the network namespace, so the sidecar, the interception rules and the replica's address all
// stay while the app is dead or frozen. No timer can outlive the harness here: a killed or paused
// app goes with its pod, which `meshquake clean` (and every run's teardown) removes.
import type Docker from "dockerode";
import { describeReadiness, probeApp } from "../runtime/app-readiness.js";
import { isNotFound } from "../runtime/clean.js";
import type { StartedPod } from "../runtime/topology.js";
import { waitFor } from "../runtime/wait-for.js";
import { applyAll, podsById, type FaultInjector, type InjectionContext } from "./injector.js";
import { kindFields } from "./kinds.js";
import { faultPods } from "./targets.js";

const DEAD_MAN = "none that outlives the harness: the app goes with its pod, which `meshquake clean` removes";
/** How long a restarted app may take to answer its health path again. */
export const RESTART_READY_TIMEOUT_MS = 20_000;

/** Docker answers 304 (already started/stopped) or 409 (not paused, not running) to a no-op. */
function isNoOp(err: unknown): boolean {
  const code = (err as { statusCode?: number } | null)?.statusCode;
  return code === 304 || code === 409;
}

async function appState(docker: Docker, pod: StartedPod): Promise<Docker.ContainerInspectInfo["State"]> {
  return (await docker.getContainer(pod.ids.app).inspect()).State;
}

/** Starts a pod's app again and waits until it is ready by the pod's own readiness probe. */
export async function restartApp(ctx: InjectionContext, pod: StartedPod): Promise<void> {
  const app = ctx.docker.getContainer(pod.ids.app);
  try {
    await app.start();
  } catch (err) {
    if (!isNoOp(err)) throw err;
  }
  await waitFor(() => probeApp(ctx.docker, pod), {
    what: `${pod.plan.id}: restarted ${describeReadiness(pod.plan.app)}`,
    timeoutMs: RESTART_READY_TIMEOUT_MS,
    intervalMs: 50,
  });
}

export const killInjector: FaultInjector<"kill"> = {
  ...kindFields("kill"),
  deadMan: DEAD_MAN,
  determinism: "not per request: the app is gone for the whole fault",
  pods: (fault) => faultPods(fault),
  leadMs: () => 0,
  async apply(fault, ctx) {
    const { restart } = fault.attributes;
    const steps = podsById(ctx, faultPods(fault)).map((pod) => ({
      pod: pod.plan.id,
      apply: async () => {
        await ctx.docker.getContainer(pod.ids.app).kill({ signal: "SIGKILL" });
        const state = await appState(ctx.docker, pod);
        if (state.Running) throw new Error(`${pod.plan.id}: app still running after SIGKILL`);
        return `${pod.plan.id}: app killed with SIGKILL (exit ${state.ExitCode}); ${restart ? "restarts when the fault ends" : "stays dead (restart: false)"}`;
      },
      undo: async () => {
        if (restart) await restartApp(ctx, pod);
      },
    }));
    return applyAll(steps);
  },
};

export const pauseInjector: FaultInjector<"pause"> = {
  ...kindFields("pause"),
  deadMan: DEAD_MAN,
  determinism: "not per request: every request the app has or gets waits until the thaw",
  pods: (fault) => faultPods(fault),
  leadMs: () => 0,
  async apply(fault, ctx) {
    const steps = podsById(ctx, faultPods(fault)).map((pod) => ({
      pod: pod.plan.id,
      apply: async () => {
        await ctx.docker.getContainer(pod.ids.app).pause();
        const state = await appState(ctx.docker, pod);
        if (!state.Paused) throw new Error(`${pod.plan.id}: app not frozen after docker pause`);
        return `${pod.plan.id}: app frozen (docker pause, cgroup freezer)`;
      },
      undo: async () => {
        try {
          await ctx.docker.getContainer(pod.ids.app).unpause();
        } catch (err) {
          if (!isNoOp(err) && !isNotFound(err)) throw err;
        }
      },
    }));
    return applyAll(steps);
  },
};
