// The judging half of a run: from what was observed (client requests, sidecar lines, fault
// timings, the load's result) to the report, touching nothing outside. A run calls it once its
// topology is gone; `meshquake judge` calls it on a recording, through the same recorders fed in
// the same order, so a recording judged again gives the run's own report.
import { dataPlaneFor } from "../dataplane/registry.js";
import { loadRecord } from "../load/load-record.js";
import { edgeAttemptStats, withAttemptStats } from "../observe/attempts.js";
import { attributeFailures, attributionFaults } from "../observe/attribution.js";
import { ClientRecorder, type ClientSample } from "../observe/client-recorder.js";
import { GeneratorRecorder } from "../observe/generator-recorder.js";
import { edgeStats, faultRecords, replicaStats, type MeshLog } from "../observe/mesh-stats.js";
import { meshTimeline } from "../observe/mesh-timeline.js";
import { isEvent, meshRows, select, view, type MeshRow } from "../observe/mesh-rows.js";
import { withPolicyEvents } from "../observe/policy-events.js";
import type { ExecutionPlan } from "../plan/types.js";
import type { RecordingEnd } from "../record/recording.js";
import { buildReport } from "../report/build-report.js";
import type { CheckResult, FaultRecord, LoadRecord, RunReport } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { evaluateChecks } from "../verdict/evaluate-checks.js";
import { inconclusiveWhereFaultsDidNotLand } from "../verdict/fault-landing.js";
import { inconclusiveWhereGeneratorFellBehind } from "../verdict/generator.js";
import { propertyEvaluator } from "../verdict/properties/index.js";
import type { BlamedFailure } from "../verdict/properties/context.js";

/**
 * What a run keeps as it goes: streaming aggregates of its client requests, fed as they settle,
 * and the sidecars' lines, parsed and handed to `log` (in a run, a store on disk: the judge reads
 * it after, a few passes, so memory does not follow the traffic).
 */
export interface RunObservers {
  client: ClientRecorder;
  generator: GeneratorRecorder;
  request(sample: ClientSample): void;
  line(line: string): void;
}

/** Where the parsed sidecar lines go, in the order they arrived. */
export interface MeshLogSink {
  append(row: MeshRow): void;
}

export function runObservers(plan: Pick<ExecutionPlan, "scenario" | "windows" | "recorders">, log: MeshLogSink): RunObservers {
  const dataPlane = dataPlaneFor(plan.scenario.dataPlane);
  const client = new ClientRecorder(plan.windows, plan.recorders.client);
  const generator = new GeneratorRecorder({ ...plan.recorders.generator, windows: plan.windows });
  return {
    client,
    generator,
    request(sample) {
      client.record(sample);
      generator.record(sample);
    },
    line(line) {
      const row = dataPlane.parseLogLine(line) ?? dataPlane.parseEventLine?.(line);
      if (row) log.append(row);
    },
  };
}

/** Everything a run knew when its topology was gone: what it ran, what it observed, how it ended. */
export interface RunFacts extends Omit<RecordingEnd, "t"> {
  scenario: ResolvedScenario;
  plan: Pick<ExecutionPlan, "windows" | "warnings" | "recorders">;
  runId: string;
  toolVersion: string;
  startedAtEpochMs: number;
  observers: RunObservers;
  /** What `observers` gave the log, read back (re-iterable; read a few times). */
  meshLog: Iterable<MeshRow>;
}

/** The report of a run, from its facts alone. */
export function judgeRun(f: RunFacts): RunReport {
  const { scenario, plan, loadStartEpochMs, observers } = f;
  const errors = [...f.errors];
  const recorder = observers.client;
  // Requests and tries from the start of load on; policy events (ejections) from set-up on too.
  const during = (r: MeshRow) => r.ts >= loadStartEpochMs || (isEvent(r) && r.kind !== "attempt");
  const rows = meshRows(view(f.meshLog, during));
  const meshLog: MeshLog = { entries: rows.entries, loadStartEpochMs };
  const client = recorder.stats();
  const ran = loadStartEpochMs > 0 && !f.interrupted && !f.lost;
  const faults = faultRecords(scenario, f.faults, meshLog);
  const meshEvents = rows.events;
  const edges = withAttemptStats(edgeStats(scenario, meshLog), edgeAttemptStats(scenario, rows.all, { loadStartEpochMs }));
  // Ejections that began during set-up are kept (with a negative `at`).
  const replicas = withPolicyEvents(replicaStats(scenario, meshLog), select(meshEvents, (e) => e.kind !== "attempt"), loadStartEpochMs);
  const timeline = loadStartEpochMs > 0 ? meshTimeline(scenario, meshLog) : undefined;
  let attribution: RunReport["attribution"];
  // What each failed request was put down to, for blast_radius; null when attribution did not finish.
  let blamed: BlamedFailure[] | null = [];
  try {
    if (ran) {
      attribution = attributeFailures({
        scenario,
        failed: recorder.failed(),
        entries: meshLog.entries,
        events: meshEvents,
        loadStartEpochMs,
        faults: attributionFaults(scenario.faults, faults, scenario),
        onExplained: (f, blame) => blamed?.push({ startMs: f.startMs, ...blame }),
      });
    }
  } catch (err) {
    // A harness bug: said as one, and the report is still written.
    errors.push({ stage: "observe", message: `failure attribution failed: ${err instanceof Error ? err.message : String(err)}` });
    blamed = null;
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
    loadDurationMs: f.load ? Math.min(scenario.load.durationMs, f.load.durationMs) : scenario.load.durationMs,
    attribution: attribution ?? null,
    blamed,
  });
  const load = f.load ? loadRecord(f.load, scenario.load, observers.generator.stats(scenario.load.durationMs), plan.recorders.generator.lagToleranceUs) : undefined;
  const checks: CheckResult[] = ran
    ? judge(scenario, evaluateChecks(scenario.checks, client, plan.windows, evaluateProperty), faults, load)
    : evaluateChecks(scenario.checks, client, plan.windows).map((c) => ({
        ...c,
        status: "error" as const,
        reason: f.lost
          ? "the harness lost the run's infrastructure (see the run's errors), so it could not gather what this check needs: not judged"
          : "the run did not complete, so this check could not be judged",
      }));
  const report = buildReport({
    runId: f.runId,
    toolVersion: f.toolVersion,
    startedAt: new Date(loadStartEpochMs || f.startedAtEpochMs).toISOString(),
    scenario,
    checks,
    windows: plan.windows.map(({ name, start, end }) => ({ name, start, end })),
    faults,
    client,
    edges,
    replicas,
    errors,
    warnings: plan.warnings,
    interrupted: f.interrupted,
    load,
    meshTimeline: timeline,
    timings: f.timings,
    environment: f.environment,
  });
  if (attribution) report.attribution = attribution;
  return report;
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
