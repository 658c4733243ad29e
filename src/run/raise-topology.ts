// A run's topology brought up, with everything that takes it down again registered on the run's
// teardown stack before it exists: its removal (every container, network and the host directory,
// even half-built), the engine watch that notices when the run's infrastructure goes away, and
// the sidecars' log streams. Shared by a run (src/run/run-scenario.ts) and a mesh held up for a
// test or `meshquake up` (src/library/start-mesh.ts).
import type Docker from "dockerode";
import type { ExecutionPlan, PodPlan } from "../plan/types.js";
import type { AdminTransport } from "../runtime/admin-channel.js";
import { cleanLeftovers } from "../runtime/clean.js";
import { pingEngine, watchEngine } from "../runtime/engine-watch.js";
import { currentOwner, type RunOwner } from "../runtime/owner.js";
import { createRunDir } from "../runtime/run-dir.js";
import { startTopology, type StartedTopology } from "../runtime/topology.js";
import { SIDECAR_UID } from "../dataplane/sidecar-user.js";
import type { TeardownStack } from "./teardown-stack.js";

export interface RaiseContext {
  docker: Docker;
  log: (line: string) => void;
  /** How the sidecars' runtime API is reached: "host" (default) when the engine shares this machine's files. */
  adminTransport?: AdminTransport;
  /** The harness process the run's containers are labelled with (default this one). */
  owner?: RunOwner;
}

export interface RaiseOptions {
  signal: AbortSignal;
  /** Aborted (with an InfrastructureLostError) when the engine or a sidecar goes away. */
  failure: AbortController;
  onStep?: (step: string, ms: number) => void;
  onSidecarLine: (pod: PodPlan, line: string) => void;
}

export async function raiseTopology(ctx: RaiseContext, plan: ExecutionPlan, teardown: TeardownStack, o: RaiseOptions): Promise<StartedTopology> {
  const { runId } = plan;
  const owner = ctx.owner ?? currentOwner();
  teardown.push("remove topology", () => removeRun(ctx.docker, runId, o.failure.signal.aborted), { essential: true });
  const transport = ctx.adminTransport ?? "host";
  const runDir = transport === "host" ? await createRunDir(runId, owner, { sidecarUid: SIDECAR_UID, pods: plan.pods.length }) : undefined;
  const watch = watchEngine(ctx.docker, { runId });
  watch.lost.addEventListener("abort", () => o.failure.abort(watch.lost.reason), { once: true });
  teardown.push("stop watching the engine", async () => watch.stop(), { essential: true });
  ctx.log(`building topology ${runId}: ${plan.pods.length} pods`);
  const topology = await startTopology(ctx.docker, plan, {
    signal: o.signal,
    owner,
    adminTransport: transport,
    ...(runDir ? { runDir } : {}),
    ...(o.onStep ? { onStep: o.onStep } : {}),
    onSidecarLine: o.onSidecarLine,
  });
  teardown.push("stop log streams", () => topology.stopLogs());
  return topology;
}

/**
 * The run's containers, networks and host directory, removed (twice: a create the engine finished
 * after its caller gave up on it shows up in the second look). When the engine cannot be reached,
 * says how to finish the job later. After the engine was lost, a quick ping first: a hung engine
 * would otherwise hold every call to its deadline.
 */
export async function removeRun(docker: Docker, runId: string, engineLost: boolean): Promise<void> {
  let r: Awaited<ReturnType<typeof cleanLeftovers>>;
  try {
    if (engineLost) await pingEngine(docker);
    r = await cleanLeftovers(docker, runId);
    const late = await cleanLeftovers(docker, runId);
    r.errors.push(...late.errors);
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; once the engine answers again, \`meshquake clean\` removes what is left of ${runId}`);
  }
  if (r.errors.length) throw new Error(r.errors.join("; "));
}

