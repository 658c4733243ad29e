// `meshquake judge <run-dir>`: a run's recording judged again — with the recorded scenario, or an
// edited one whose checks changed — into fresh artefacts, with run's exit codes. No Docker.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import { judgeScopeProblems } from "../record/judge-scope.js";
import { readRecording, RECORDING_FILE, RecordingError, type Recording } from "../record/recording.js";
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
}

export async function judgeCommand(target: string, o: JudgeOptions, io: CliIo, ctx: { color: boolean }): Promise<number> {
  let recording: Recording;
  try {
    const isDir = await stat(target).then((s) => s.isDirectory(), () => false);
    recording = await readRecording(isDir ? join(target, RECORDING_FILE) : target);
  } catch (err) {
    if (!(err instanceof RecordingError)) throw err;
    io.stderr(`meshquake: ${safeLine(err.message)}\n`);
    return EXIT.usage;
  }
  const { start, end } = recording;
  if (end === null) {
    io.stderr(`meshquake: ${safeLine(target)}: the run ${start.runId} stopped before its recording was complete (its harness was killed?): nothing to judge\n`);
    return EXIT.harness;
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
  const observers = runObservers(scenario, plan);
  for (const sample of recording.requests) observers.request(sample);
  for (const { line } of recording.lines) observers.line(line);
  const { t: _end, ...outcome } = end;
  const report = judgeRun({
    ...outcome,
    scenario,
    plan,
    runId: start.runId,
    toolVersion: start.toolVersion,
    startedAtEpochMs: start.startedAtEpochMs,
    observers,
  });
  const artefactCode = await writeAll(report, o.out, o.reporter, io, ctx.color);
  return worstExit([report.exitCode, artefactCode]);
}
