import type Docker from "dockerode";
import { dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import type { ExecutionPlan } from "../plan/types.js";
import { MeshLogStore } from "../record/mesh-log-store.js";
import { openRecording } from "../record/recording.js";
import type { HarnessError, RunReport } from "../model/run-report.js";
import type { ProgressSnapshot } from "../observe/progress.js";
import type { AdminTransport } from "../runtime/admin-channel.js";
import { ensureBaseImage } from "../runtime/base-image.js";
import type { InfrastructureLostError } from "../runtime/engine-watch.js";
import { currentOwner, type RunOwner } from "../runtime/owner.js";
import type { StartedTopology } from "../runtime/topology.js";
import type { PullPolicy } from "../runtime/pull-image.js";
import { ensureUserImages } from "../runtime/user-images.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { checkLoad } from "../load/load-driver.js";
import { judgeRun, runObservers } from "./judge-run.js";
import { playLoad, type PlayState } from "./play-load.js";
import { raiseTopology } from "./raise-topology.js";
import { faultErrors, interruptedError, meshLogError, runEnvironment } from "./run-outcome.js";
import { newRunId } from "./run-id.js";
import { TeardownStack } from "./teardown-stack.js";

/** Side effects a run needs, injected (the CLI builds the real ones; tests may swap them). */
export interface RunContext {
  docker: Docker;
  dockerVersion: string;
  image: string;
  log: (line: string) => void;
  signal: AbortSignal;
  /** Aborted by a second signal: tear down fast (remove the containers, skip the tidying). */
  hurry?: AbortSignal;
  /** How the sidecars' runtime API is reached: "host" (default) when the engine shares this machine's files. */
  adminTransport?: AdminTransport;
  /** The harness process the run's containers are labelled with (default this one). */
  owner?: RunOwner;
  now?: () => number;
  runId?: string;
  /** Called as soon as the run id is known (so a caller can clean up after a crash). */
  onRunId?: (runId: string) => void;
  toolVersion: string;
  /** Where the run's recording goes (src/record/recording.ts); none when absent. */
  recordingPath?: string;
  /** Called once a second while the load plays (src/observe/progress.ts). */
  progress?: (p: ProgressSnapshot) => void;
  /** When a service's `image:` is pulled (default "missing"). */
  pull?: PullPolicy;
}

/**
 * One scenario, end to end: plan, build the topology, play load and faults together, collect the
 * sidecars' logs, judge, and always tear down (in reverse) — whatever happened before.
 */
export async function runScenario(scenario: ResolvedScenario, ctx: RunContext): Promise<RunReport> {
  const now = ctx.now ?? Date.now;
  const runId = ctx.runId ?? newRunId(scenario.name);
  ctx.onRunId?.(runId);
  const teardown = new TeardownStack();
  const errors: HarnessError[] = [];
  const steps: Record<string, number> = {};
  const t0 = now();
  let tRun = t0;
  let tTeardown = t0;

  const dataPlane = dataPlaneFor(scenario.dataPlane);
  // A load that cannot be sent (a gRPC method its proto lacks) is said before anything is built or started.
  const loadError = await checkLoad(scenario.load).then(
    () => null,
    (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
  );
  // User images (image: must exist locally; build: is built here) before the plan names them.
  const userImages = loadError ? { images: {}, error: null } : await prepareUserImages(scenario, ctx, steps);
  const plan: ExecutionPlan = buildPlan({ scenario, runId, image: ctx.image, dataPlane, userImages: userImages.images });
  // The sidecars' lines, parsed, go to disk as they arrive; the judge reads them back after.
  const store = await MeshLogStore.create({ owner: ctx.owner ?? currentOwner() });
  const observers = runObservers(plan, store);
  // Everything the judge reads, written as it arrives (src/record/recording.ts).
  const recordingPath = ctx.recordingPath;
  const recording = recordingPath
    ? await openRecording(recordingPath, { runId, toolVersion: ctx.toolVersion, startedAtEpochMs: t0, scenario, image: ctx.image, userImages: userImages.images }).catch(
        (err: unknown) => (errors.push({ stage: "observe", message: `no recording of this run (${recordingPath}): ${err instanceof Error ? err.message : String(err)}` }), null),
      )
    : null;
  const played: PlayState = { loadStartEpochMs: 0, scheduler: null, load: null };
  let topology: StartedTopology | null = null;
  let interrupted = false;
  // The run's own infrastructure failed (the engine went away, a sidecar died): stop, say so.
  const failure = new AbortController();
  const signal = AbortSignal.any([ctx.signal, failure.signal]);

  try {
    if (loadError !== null) throw loadError;
    if (userImages.error !== null) throw userImages.error;
    topology = await raiseTopology(ctx, plan, teardown, {
      signal,
      failure,
      onStep: (name, ms) => (steps[`setup.${name}`] = ms),
      onSidecarLine: (pod, line) => {
        recording?.line(pod.id, line);
        observers.line(line);
      },
    });

    await playLoad(
      {
        plan,
        topology,
        dataPlane,
        docker: ctx.docker,
        signal,
        now,
        log: ctx.log,
        progress: ctx.progress,
        record(sample) {
          recording?.request(sample);
          observers.request(sample);
        },
        teardown,
      },
      played,
    );
    interrupted = ctx.signal.aborted;
    errors.push(...faultErrors(played.scheduler!.records()));
  } catch (err) {
    if (ctx.signal.aborted) interrupted = true;
    // A lost infrastructure is said once, below: what failed because of it is its echo.
    else if (!failure.signal.aborted) errors.push({ stage: err === loadError ? "load" : err === userImages.error ? "images" : topology ? "run" : "runtime", message: err instanceof Error ? err.message : String(err) });
  } finally {
    // Set-up ends when the load starts.
    if (played.loadStartEpochMs > 0) tRun = played.loadStartEpochMs;
    tTeardown = now();
    ctx.log(`tearing down ${runId}${ctx.signal.aborted ? " (interrupted)" : ""}`);
    const lostAt = failure.signal.aborted ? (failure.signal.reason as InfrastructureLostError) : null;
    if (lostAt) errors.push({ stage: "runtime", message: infrastructureLost(lostAt, played.loadStartEpochMs) });
    for (const e of await teardown.unwind(ctx.hurry)) errors.push({ stage: "teardown", message: e });
  }
  if (interrupted) errors.push(interruptedError());
  const lost = failure.signal.aborted;
  const tEnd = now();

  const timings = { setupMs: tRun - t0, runMs: tTeardown - tRun, teardownMs: tEnd - tTeardown, steps };
  const environment = runEnvironment(ctx, dataPlane);
  const outcome = { loadStartEpochMs: played.loadStartEpochMs, faults: played.scheduler?.records() ?? [], load: played.load, errors, interrupted, lost, timings, environment };
  if (recording) {
    await recording.end(outcome);
    if (recording.error) errors.push({ stage: "observe", message: `the run's recording (${recordingPath}) is incomplete: ${recording.error.message}` });
  }
  try {
    await store.finish();
    errors.push(...meshLogError(store));
    return judgeRun({ ...outcome, scenario, plan, runId, toolVersion: ctx.toolVersion, startedAtEpochMs: t0, observers, meshLog: store });
  } finally {
    store.dispose();
  }
}

/** What the report says when the infrastructure went away mid-run. */
function infrastructureLost(err: InfrastructureLostError, loadStartEpochMs: number): string {
  const when = loadStartEpochMs > 0 ? ` at ${((err.at - loadStartEpochMs) / 1000).toFixed(1)} s into the load` : " while setting up";
  return `${err.message}${when}; the run stopped there (what was measured until then is kept)`;
}

/** Builds or finds every user image; a failure is the run's "images" error (exit 3), never a throw. */
export async function prepareUserImages(
  scenario: ResolvedScenario,
  ctx: Pick<RunContext, "docker" | "log" | "signal" | "pull">,
  steps: Record<string, number>,
): Promise<{ images: Record<string, string>; error: Error | null }> {
  if (!scenario.services.some((s) => s.image)) return { images: {}, error: null };
  try {
    const r = await ensureUserImages(ctx.docker, scenario.services, {
      log: ctx.log,
      base: () => ensureBaseImage(ctx.docker, { log: ctx.log, signal: ctx.signal }),
      signal: ctx.signal,
      ...(ctx.pull ? { pull: ctx.pull } : {}),
    });
    steps["setup.user-images"] = Math.round(r.ms);
    return { images: r.images, error: null };
  } catch (err) {
    return { images: {}, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
