import type Docker from "dockerode";
import { dataPlaneFor } from "../dataplane/registry.js";
import type { AccessLogEntry, MeshEvent } from "../dataplane/types.js";
import { FaultScheduler } from "../faults/scheduler.js";
import { loadRecord, prepareLoad, type LoadResult } from "../load/load-driver.js";
import { GeneratorRecorder } from "../observe/generator-recorder.js";
import { attributeFailures, attributionFaults } from "../observe/attribution.js";
import { ClientRecorder } from "../observe/client-recorder.js";
import { edgeAttemptStats, withAttemptStats } from "../observe/attempts.js";
import { edgeStats, faultRecords, replicaStats, type MeshLog } from "../observe/mesh-stats.js";
import { withPolicyEvents } from "../observe/policy-events.js";
import { meshTimeline } from "../observe/mesh-timeline.js";
import { buildPlan } from "../plan/plan.js";
import type { ExecutionPlan } from "../plan/types.js";
import { buildReport } from "../report/build-report.js";
import type { CheckResult, FaultRecord, HarnessError, LoadRecord, RunReport } from "../report/types.js";
import { ensureBaseImage } from "../runtime/base-image.js";
import type { AdminTransport } from "../runtime/admin-channel.js";
import { cleanLeftovers } from "../runtime/clean.js";
import { InfrastructureLostError, pingEngine, watchEngine } from "../runtime/engine-watch.js";
import { currentOwner, type RunOwner } from "../runtime/owner.js";
import { createRunDir } from "../runtime/run-dir.js";
import { startTopology, type StartedTopology } from "../runtime/topology.js";
import { ensureUserImages } from "../runtime/user-images.js";
import { SIDECAR_UID } from "../scenario/sidecar-user.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { evaluateChecks } from "../verdict/evaluate-checks.js";
import { inconclusiveWhereFaultsDidNotLand } from "../verdict/fault-landing.js";
import { inconclusiveWhereGeneratorFellBehind } from "../verdict/generator.js";
import { clientLatencyThresholds, propertyEvaluator } from "../verdict/properties/index.js";
import { describeLoad } from "../plan/describe-load.js";
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
  // User images (image: must exist locally; build: is built here) before the plan names them.
  const userImages = await prepareUserImages(scenario, ctx, steps);
  const plan: ExecutionPlan = buildPlan({ scenario, runId, image: ctx.image, dataPlane, userImages: userImages.images });
  // Paths get their own statistics only when the mix has several (isolation by path).
  const paths = [...new Set(scenario.load.requests.map((r) => r.path))];
  const recorder = new ClientRecorder(plan.windows, {
    latencyThresholdsUs: clientLatencyThresholds(scenario),
    paths: paths.length > 1 ? paths : [],
  });
  const lagToleranceUs = scenario.load.maxLagMs * 1000;
  const generator = new GeneratorRecorder({ model: scenario.load.model, rate: scenario.load.rate, windows: plan.windows, lagToleranceUs });
  const entries: AccessLogEntry[] = [];
  const events: MeshEvent[] = [];
  let loadStartEpochMs = 0;
  let scheduler: FaultScheduler | null = null;
  let topology: StartedTopology | null = null;
  let interrupted = false;
  let loadResult: LoadResult | null = null;
  // The run's own infrastructure failed (the engine went away, a sidecar died): stop, say so.
  const failure = new AbortController();
  const signal = AbortSignal.any([ctx.signal, failure.signal]);

  try {
    if (userImages.error !== null) throw userImages.error;
    const owner = ctx.owner ?? currentOwner();
    // Registered before anything exists: removes every container, network and the host directory of this run, even half-built.
    teardown.push("remove topology", () => removeRun(ctx.docker, runId, failure.signal.aborted), { essential: true });
    const transport = ctx.adminTransport ?? "host";
    const runDir = transport === "host" ? await createRunDir(runId, owner, { sidecarUid: SIDECAR_UID, pods: plan.pods.length }) : undefined;
    const watch = watchEngine(ctx.docker, { runId });
    watch.lost.addEventListener("abort", () => failure.abort(watch.lost.reason), { once: true });
    teardown.push("stop watching the engine", async () => watch.stop(), { essential: true });
    ctx.log(`building topology ${runId}: ${plan.pods.length} pods`);
    topology = await startTopology(ctx.docker, plan, {
      signal,
      owner,
      adminTransport: transport,
      ...(runDir ? { runDir } : {}),
      onStep: (name, ms) => (steps[`setup.${name}`] = ms),
      onSidecarLine: (_pod, line) => {
        const e = dataPlane.parseLogLine(line);
        if (e) return void entries.push(e);
        const ev = dataPlane.parseEventLine?.(line);
        if (ev) events.push(ev);
      },
    });
    teardown.push("stop log streams", () => topology!.stopLogs());

    const prepared = await prepareLoad({
      url: topology.ingressUrl,
      load: scenario.load,
      seed: scenario.seed,
      signal,
      recorder: {
        record(sample) {
          recorder.record(sample);
          generator.record(sample);
        },
      },
      clock: now,
    });
    teardown.push("stop load generator", () => prepared.dispose());

    tRun = now();
    ctx.log(`load: ${describeLoad(scenario.load)} for ${scenario.load.durationMs} ms against ${topology.ingressUrl}`);
    loadStartEpochMs = now();
    scheduler = new FaultScheduler({
      faults: scenario.faults,
      timeline: plan.timeline,
      pods: topology.pods,
      dataPlane,
      docker: ctx.docker,
      network: plan.network,
      loadStartEpochMs,
      now,
      signal,
      log: ctx.log,
    });
    const s = scheduler;
    teardown.push("revert faults", async () => {
      const errs = await s.revertAll();
      if (errs.length) throw new Error(errs.join("; "));
    });
    const [load] = await Promise.all([prepared.start(loadStartEpochMs), s.play()]);
    loadResult = load;
    interrupted = ctx.signal.aborted;
    await s.revertAll();
    for (const t of s.records()) if (t.error) errors.push({ stage: "faults", message: `${t.name}: ${t.error}` });
  } catch (err) {
    if (ctx.signal.aborted) interrupted = true;
    // A lost infrastructure is said once, below: what failed because of it is its echo.
    else if (!failure.signal.aborted) errors.push({ stage: err === userImages.error ? "images" : topology ? "run" : "runtime", message: err instanceof Error ? err.message : String(err) });
  } finally {
    tTeardown = now();
    ctx.log(`tearing down ${runId}${ctx.signal.aborted ? " (interrupted)" : ""}`);
    const lostAt = failure.signal.aborted ? (failure.signal.reason as InfrastructureLostError) : null;
    if (lostAt) errors.push({ stage: "runtime", message: infrastructureLost(lostAt, loadStartEpochMs) });
    for (const e of await teardown.unwind(ctx.hurry)) errors.push({ stage: "teardown", message: e });
  }
  if (interrupted) errors.push({ stage: "run", message: "interrupted: the run was stopped before it finished" });
  const lost = failure.signal.aborted;
  const tEnd = now();

  const meshLog: MeshLog = {
    entries: entries.filter((e) => e.ts >= loadStartEpochMs),
    loadStartEpochMs,
  };
  const client = recorder.stats();
  const ran = loadStartEpochMs > 0 && !interrupted && !lost;
  const faults = faultRecords(scenario, scheduler?.records() ?? [], meshLog);
  const meshEvents = events.filter((e) => e.kind !== "attempt" || e.ts >= loadStartEpochMs);
  const edges = withAttemptStats(edgeStats(scenario, meshLog), edgeAttemptStats(scenario, meshLog.entries, meshEvents, { loadStartEpochMs }));
  // Ejections that began during set-up are kept (with a negative `at`).
  const replicas = withPolicyEvents(replicaStats(scenario, meshLog), events, loadStartEpochMs);
  const timeline = loadStartEpochMs > 0 ? meshTimeline(scenario, meshLog) : undefined;
  let attribution: RunReport["attribution"];
  try {
    if (ran) {
      attribution = attributeFailures({
        scenario,
        failed: recorder.failed(),
        entries: meshLog.entries,
        events: meshEvents,
        loadStartEpochMs,
        faults: attributionFaults(scenario.faults, faults, scenario),
      });
    }
  } catch (err) {
    // A harness bug: said as one, and the report is still written.
    errors.push({ stage: "observe", message: `failure attribution failed: ${err instanceof Error ? err.message : String(err)}` });
  }
  const evaluateProperty = propertyEvaluator({
    scenario,
    windows: plan.windows,
    faults,
    client,
    series: recorder.series(scenario.load.durationMs),
    edges,
    replicas,
    meshTimeline: timeline ?? null,
    entries: meshLog.entries,
    events: meshEvents,
    loadStartEpochMs,
    loadDurationMs: loadResult ? Math.min(scenario.load.durationMs, loadResult.durationMs) : scenario.load.durationMs,
    attribution: attribution ?? null,
  });
  const load = loadResult ? loadRecord(loadResult, scenario.load, generator.stats(scenario.load.durationMs), lagToleranceUs) : undefined;
  const checks: CheckResult[] = ran
    ? judge(scenario, evaluateChecks(scenario.checks, client, plan.windows, evaluateProperty), faults, load)
    : evaluateChecks(scenario.checks, client, plan.windows).map((c) => ({
        ...c,
        status: "error" as const,
        reason: lost
          ? "the harness lost the run's infrastructure (see the run's errors), so it could not gather what this check needs: not judged"
          : "the run did not complete, so this check could not be judged",
      }));
  const report = buildReport({
    runId,
    toolVersion: ctx.toolVersion,
    startedAt: new Date(loadStartEpochMs || t0).toISOString(),
    scenario,
    checks,
    windows: plan.windows.map(({ name, start, end }) => ({ name, start, end })),
    faults,
    client,
    edges,
    replicas,
    errors,
    warnings: plan.warnings,
    interrupted,
    load,
    meshTimeline: timeline,
    timings: { setupMs: tRun - t0, runMs: tTeardown - tRun, teardownMs: tEnd - tTeardown, steps },
    environment: {
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      docker: ctx.dockerVersion,
      dataPlane: dataPlane.name,
      image: ctx.image,
    },
  });
  if (attribution) report.attribution = attribution;
  return report;
}

/** What the report says when the infrastructure went away mid-run. */
function infrastructureLost(err: InfrastructureLostError, loadStartEpochMs: number): string {
  const when = loadStartEpochMs > 0 ? ` at ${((err.at - loadStartEpochMs) / 1000).toFixed(1)} s into the load` : " while setting up";
  return `${err.message}${when}; the run stopped there (what was measured until then is kept)`;
}

/**
 * The run's containers, networks and host directory, removed (twice: a create the engine finished
 * after its caller gave up on it shows up in the second look). When the engine cannot be reached,
 * says how to finish the job later. After the engine was lost, a quick ping first: a hung engine
 * would otherwise hold every call to its deadline.
 */
async function removeRun(docker: Docker, runId: string, engineLost: boolean): Promise<void> {
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

/**
 * SLO checks over a fault that did not land become inconclusive here; property checks already
 * are (src/verdict/properties/index.ts: it knows which faults each one was judged over, the whole
 * load's included) and keep the status they observed in their evidence. Then every check over a
 * window where an open load's generator fell behind becomes inconclusive too.
 */
function judge(scenario: ResolvedScenario, results: CheckResult[], faults: FaultRecord[], load: LoadRecord | undefined): CheckResult[] {
  const landed = inconclusiveWhereFaultsDidNotLand(results, scenario.checks, faults);
  const judged = results.map((r, i) => (scenario.checks[i]?.kind === "property" ? r : landed[i]!));
  return inconclusiveWhereGeneratorFellBehind(judged, scenario.checks, load);
}

/** Builds or finds every user image; a failure is the run's "images" error (exit 3), never a throw. */
async function prepareUserImages(
  scenario: ResolvedScenario,
  ctx: RunContext,
  steps: Record<string, number>,
): Promise<{ images: Record<string, string>; error: Error | null }> {
  if (!scenario.services.some((s) => s.image)) return { images: {}, error: null };
  try {
    const r = await ensureUserImages(ctx.docker, scenario.services, {
      log: ctx.log,
      base: () => ensureBaseImage(ctx.docker, { log: ctx.log, signal: ctx.signal }),
      signal: ctx.signal,
    });
    steps["setup.user-images"] = Math.round(r.ms);
    return { images: r.images, error: null };
  } catch (err) {
    return { images: {}, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
