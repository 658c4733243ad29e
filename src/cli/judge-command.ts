// `meshquake judge <run-dir>`: a run's recording judged again — with the recorded scenario, or an
// edited one whose checks changed — into fresh artefacts, with run's exit codes. No Docker.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import { judgeScopeProblems } from "../record/judge-scope.js";
import { MeshLogStore } from "../record/mesh-log-store.js";
import { readRecordingStart, RECORDING_FILE, RecordingError, streamRecording, type RecordingEnd, type RecordingStart } from "../record/recording.js";
import { judgeRun, runObservers } from "../run/judge-run.js";
import { formatProblem } from "../scenario/format-problem.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { safeLine } from "../util/safe-text.js";
import { EXIT, worstExit } from "../verdict/verdict.js";
import { writeAll } from "./artefacts.js";
import type { CliIo } from "./io.js";
import { loadOrReport, type LoadOptions } from "./load-or-report.js";

export interface JudgeOptions extends Pick<LoadOptions, "allowOutsideImports"> {
  /** An edited scenario to judge with instead of the recorded one. */
  scenario?: string;
  out: string;
  reporter: string;
  /** Only the verdict summary: the artefacts written go unsaid. */
  quiet?: boolean;
}

export async function judgeCommand(target: string, o: JudgeOptions, io: CliIo, ctx: { color: boolean }): Promise<number> {
  const isDir = await stat(target).then((s) => s.isDirectory(), () => false);
  const path = isDir ? join(target, RECORDING_FILE) : target;
  const refused = (err: unknown): number => {
    if (!(err instanceof RecordingError)) throw err;
    io.stderr(`meshquake: ${safeLine(err.message)}\n`);
    return EXIT.usage;
  };
  let start: RecordingStart;
  try {
    start = await readRecordingStart(path);
  } catch (err) {
    return refused(err);
  }
  let scenario: ResolvedScenario = start.scenario;
  if (o.scenario) {
    const edited = await loadOrReport(o.scenario, io, { allowOutsideImports: o.allowOutsideImports });
    if (!edited) return EXIT.usage;
    const problems = judgeScopeProblems(start.scenario, edited);
    for (const p of problems) io.stderr(`${safeLine(formatProblem(p))}\n`);
    if (problems.length) return EXIT.usage;
    scenario = edited;
  }
  const plan = buildPlan({ scenario, runId: start.runId, image: start.image, dataPlane: dataPlaneFor(scenario.dataPlane), userImages: start.userImages });
  // The recording streamed through the run's own observers, into a log on disk: memory stays flat.
  const store = await MeshLogStore.create();
  try {
    const observers = runObservers(plan, store);
    let end: RecordingEnd | null;
    try {
      ({ end } = await streamRecording(path, { request: (sample) => observers.request(sample), line: (_pod, line) => observers.line(line) }));
    } catch (err) {
      return refused(err);
    }
    await store.finish();
    if (end === null) {
      io.stderr(`meshquake: ${safeLine(target)}: the run ${start.runId} stopped before its recording was complete (its harness was killed?): nothing to judge\n`);
      return EXIT.harness;
    }
    if (store.error) throw new Error(`could not keep the recording's sidecar log on disk: ${store.error.message}`);
    const { t: _end, ...outcome } = end;
    const report = judgeRun({
      ...outcome,
      scenario,
      plan,
      runId: start.runId,
      toolVersion: start.toolVersion,
      startedAtEpochMs: start.startedAtEpochMs,
      observers,
      meshLog: store,
    });
    const artefactCode = await writeAll(report, o.out, o.reporter, io, ctx.color, o.quiet);
    return worstExit([report.exitCode, artefactCode]);
  } finally {
    store.dispose();
  }
}
