import type Docker from "dockerode";
import { dataPlaneFor } from "../dataplane/registry.js";
import type { AccessLogEntry, MeshEvent } from "../dataplane/types.js";
import { FaultScheduler } from "../faults/scheduler.js";
import { loadRecord, runLoad, type LoadResult } from "../load/load-driver.js";
import { attributeFailures, attributionFaults } from "../observe/attribution.js";
import { ClientRecorder } from "../observe/client-recorder.js";
import { edgeAttemptStats, withAttemptStats } from "../observe/attempts.js";
import { edgeStats, faultRecords, replicaStats, type MeshLog } from "../observe/mesh-stats.js";
import { withPolicyEvents } from "../observe/policy-events.js";
import { meshTimeline } from "../observe/mesh-timeline.js";
import { buildPlan } from "../plan/plan.js";
import type { ExecutionPlan } from "../plan/types.js";
import { buildReport } from "../report/build-report.js";
import type { CheckResult, FaultRecord, HarnessError, RunReport } from "../report/types.js";
import { ensureBaseImage } from "../runtime/base-image.js";
import { cleanLeftovers } from "../runtime/clean.js";
import { startTopology, type StartedTopology } from "../runtime/topology.js";
import { ensureUserImages } from "../runtime/user-images.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { evaluateChecks } from "../verdict/evaluate-checks.js";
import { inconclusiveWhereFaultsDidNotLand } from "../verdict/fault-landing.js";
import { clientLatencyThresholds, propertyEvaluator } from "../verdict/properties/index.js";
import { newRunId } from "./run-id.js";
import { TeardownStack } from "./teardown-stack.js";

/** Side effects a run needs, injected (the CLI builds the real ones; tests may swap them). */
export interface RunContext {
  docker: Docker;
  dockerVersion: string;
  image: string;
  log: (line: string) => void;
  signal: AbortSignal;
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
  const entries: AccessLogEntry[] = [];
  const events: MeshEvent[] = [];
  let loadStartEpochMs = 0;
  let scheduler: FaultScheduler | null = null;
  let topology: StartedTopology | null = null;
  let interrupted = false;
  let loadResult: LoadResult | null = null;

  try {
    if (userImages.error !== null) throw userImages.error;
    // Registered before anything exists: removes every container and network of this run, even half-built.
    teardown.push("remove topology", async () => {
      const r = await cleanLeftovers(ctx.docker, runId);
      if (r.errors.length) throw new Error(r.errors.join("; "));
    });
    ctx.log(`building topology ${runId}: ${plan.pods.length} pods`);
    topology = await startTopology(ctx.docker, plan, {
      signal: ctx.signal,
      onStep: (name, ms) => (steps[`setup.${name}`] = ms),
      onSidecarLine: (_pod, line) => {
        const e = dataPlane.parseLogLine(line);
        if (e) return void entries.push(e);
        const ev = dataPlane.parseEventLine?.(line);
        if (ev) events.push(ev);
      },
    });
    teardown.push("stop log streams", () => topology!.stopLogs());

    tRun = now();
    ctx.log(`load: ${scenario.load.rate} req/s for ${scenario.load.durationMs} ms against ${topology.ingressUrl}`);
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
      signal: ctx.signal,
      log: ctx.log,
    });
    const s = scheduler;
    teardown.push("revert faults", async () => {
      const errs = await s.revertAll();
      if (errs.length) throw new Error(errs.join("; "));
    });
    const [load] = await Promise.all([
      runLoad({
        url: topology.ingressUrl,
        rate: scenario.load.rate,
        connections: scenario.load.connections,
        durationMs: scenario.load.durationMs,
        requests: scenario.load.requests,
        signal: ctx.signal,
        recorder,
        clock: now,
        startedAtEpochMs: loadStartEpochMs,
      }),
      s.play(),
    ]);
    loadResult = load;
    interrupted = load.aborted || ctx.signal.aborted;
    await s.revertAll();
    for (const t of s.records()) if (t.error) errors.push({ stage: "faults", message: `${t.name}: ${t.error}` });
  } catch (err) {
    if (ctx.signal.aborted) interrupted = true;
    else errors.push({ stage: err === userImages.error ? "images" : topology ? "run" : "runtime", message: err instanceof Error ? err.message : String(err) });
  } finally {
    tTeardown = now();
    for (const e of await teardown.unwind()) errors.push({ stage: "teardown", message: e });
  }
  if (interrupted) errors.push({ stage: "run", message: "interrupted: the run was stopped before it finished" });
  const tEnd = now();

  const meshLog: MeshLog = {
    entries: entries.filter((e) => e.ts >= loadStartEpochMs),
    loadStartEpochMs,
  };
  const client = recorder.stats();
  const ran = loadStartEpochMs > 0 && !interrupted;
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
  const checks: CheckResult[] = ran
    ? judge(scenario, evaluateChecks(scenario.checks, client, plan.windows, evaluateProperty), faults)
    : evaluateChecks(scenario.checks, client, plan.windows).map((c) => ({
        ...c,
        status: "error" as const,
        reason: "the run did not complete, so this check could not be judged",
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
    load: loadResult ? loadRecord(loadResult) : undefined,
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

/**
 * SLO checks over a fault that did not land become inconclusive here; property checks already
 * are (src/verdict/properties/index.ts: it knows which faults each one was judged over, the whole
 * load's included) and keep the status they observed in their evidence.
 */
function judge(scenario: ResolvedScenario, results: CheckResult[], faults: FaultRecord[]): CheckResult[] {
  const landed = inconclusiveWhereFaultsDidNotLand(results, scenario.checks, faults);
  return results.map((r, i) => (scenario.checks[i]?.kind === "property" ? r : landed[i]!));
}

/** Builds or finds every user image; a failure is the run's "images" error (exit 3), never a throw. */
async function prepareUserImages(
  scenario: ResolvedScenario,
  ctx: RunContext,
  steps: Record<string, number>,
): Promise<{ images: Record<string, string>; error: Error | null }> {
  if (!scenario.services.some((s) => s.image)) return { images: {}, error: null };
  try {
    const r = await ensureUserImages(ctx.docker, scenario.services, { log: ctx.log, base: () => ensureBaseImage(ctx.docker, { log: ctx.log }) });
    steps["setup.user-images"] = Math.round(r.ms);
    return { images: r.images, error: null };
  } catch (err) {
    return { images: {}, error: err instanceof Error ? err : new Error(String(err)) };
  }
}
