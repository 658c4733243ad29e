// `meshquake run`: each scenario on one engine, with --repeat, its artefacts, and the worst exit
// code. Loaded only when `run` is the command (it pulls in the whole pipeline: Docker, load, reports).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ProgressSnapshot } from "../observe/progress.js";
import { serializeReport } from "../report/json.js";
import type { RepeatSummary, RunReport } from "../model/run-report.js";
import { readyEngine, runOnEngine } from "../run/engine.js";
import { renderRepeatSummary, runRepeated } from "../run/repeat.js";
import type { PullPolicy } from "../runtime/pull-image.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { debug } from "../util/debug.js";
import { safeJson, safeText } from "../util/safe-text.js";
import { EXIT, worstExit } from "../verdict/verdict.js";
import { RECORDING_FILE } from "../record/recording.js";
import { writeAll } from "./artefacts.js";
import { interruptions } from "./interruptions.js";
import type { CliIo } from "./io.js";
import { loadOrReport, type LoadOptions } from "./load-or-report.js";
import { progressLine } from "./progress-line.js";

export interface RunOptions extends LoadOptions {
  out: string;
  reporter: string;
  quiet?: boolean;
  json?: boolean;
  repeat?: number;
  quorum?: number;
  /** When a service's image: is pulled (default missing). */
  pull?: PullPolicy;
}

const debugSteps = debug("meshquake:steps");

export async function runCommand(files: string[], o: RunOptions, io: CliIo, ctx: { version: string; color: boolean }): Promise<number> {
  const scenarios: ResolvedScenario[] = [];
  for (const f of files) {
    const s = await loadOrReport(f, io, o);
    if (!s) return EXIT.usage;
    scenarios.push(s);
  }
  // Live progress during load (not with --quiet); the run's own lines clear it first.
  const progress = o.quiet ? null : progressLine(io);
  const log = (l: string) => {
    progress?.clear();
    if (!o.quiet) io.stderr(`${l}\n`);
  };
  // From here on a signal never kills the process: it stops what runs (an image build too) and
  // tears down, and the exit code is 130.
  const stop = interruptions(io);
  try {
    const engine = await readyEngine({ env: io.env, log, signal: stop.signal });
    const codes: number[] = [];
    for (const scenario of scenarios) {
      if (stop.signal.aborted) break;
      log(`▶ ${scenario.name} (${scenario.source.file})`);
      // With --repeat, each run's recording sits beside its report in runs/ (run-<n>.recording.ndjson.gz).
      let runNumber = 0;
      const recordingPath = (s: ResolvedScenario) =>
        (o.repeat ?? 1) > 1 ? join(o.out, s.name, "runs", `run-${++runNumber}.${RECORDING_FILE}`) : join(o.out, s.name, RECORDING_FILE);
      const runOnce = async (s: ResolvedScenario) => {
        const report = await runOnEngine(engine, s, {
          log: (l) => log(`  ${l}`),
          signal: stop.signal,
          hurry: stop.hurry,
          toolVersion: ctx.version,
          recordingPath: recordingPath(s),
          ...(o.pull ? { pull: o.pull } : {}),
          ...(progress ? { progress: (p: ProgressSnapshot) => progress.show(p) } : {}),
        });
        progress?.clear();
        debugTimings(report);
        return report;
      };
      const repeated = (o.repeat ?? 1) > 1 ? await repeatScenario(scenario, o, runOnce, stop.signal, log) : null;
      const report = repeated?.report ?? (await runOnce(scenario));
      if (o.json) io.stdout(`${safeJson(JSON.stringify(report, null, 2))}\n`);
      const reporters = o.json ? o.reporter.split(",").filter((r) => r !== "console").join(",") : o.reporter;
      const artefactCode = await writeAll(report, o.out, reporters, io, ctx.color, o.quiet);
      if (repeated && !o.json) io.stdout(safeText(renderRepeatSummary(repeated.summary)));
      codes.push(repeated?.summary.exitCode ?? report.exitCode, artefactCode);
    }
    if (stop.signal.aborted) return EXIT.interrupted;
    return worstExit(codes);
  } catch (err) {
    // Interrupted before any run started (connecting, building the image): nothing to tear down.
    if (stop.signal.aborted) return EXIT.interrupted;
    throw err;
  } finally {
    stop.dispose();
  }
}

/** With DEBUG=meshquake:steps (or --verbose): how long each setup step and phase of a run took. */
function debugTimings(report: RunReport): void {
  const { setupMs, runMs, teardownMs, steps } = report.timings;
  for (const [step, ms] of Object.entries(steps)) debugSteps(`${report.runId} ${step}: ${Math.round(ms)} ms`);
  debugSteps(`${report.runId} setup ${Math.round(setupMs)} ms, run ${Math.round(runMs)} ms, teardown ${Math.round(teardownMs)} ms`);
}

/**
 * --repeat: the runs one after another (src/run/repeat.ts), each one's report.json and recording
 * kept in <out>/<name>/runs/; the last run's report carries the aggregate (`repeat`) and is the
 * one the reporters render.
 */
async function repeatScenario(
  scenario: ResolvedScenario,
  o: RunOptions,
  runOnce: (scenario: ResolvedScenario) => Promise<RunReport>,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<{ report: RunReport; summary: RepeatSummary } | null> {
  const runs = o.repeat ?? 1;
  const dir = join(o.out, scenario.name, "runs");
  const { reports, summary } = await runRepeated(scenario, runs, o.quorum ?? runs, runOnce, {
    signal,
    onRun: async (i, report) => {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `run-${i + 1}.json`), serializeReport(report));
      log(`  run ${i + 1}/${runs}: ${report.verdict} (${report.runId})`);
    },
  });
  const last = reports.at(-1);
  if (!last) return null;
  // The aggregate speaks for the gate: each check carries its gate status (the last run's numbers
  // stay as evidence) and the report its verdict and exit code, so JUnit, HTML and a later
  // `meshquake report` agree with this run's exit code.
  const gate = new Map(summary.checks.map((c) => [c.name, c]));
  const checks = last.checks.map((c) => {
    const g = gate.get(c.name);
    if (!g || g.gate === c.status) return c;
    const reason = `gate over ${summary.runs} runs (quorum ${summary.quorum}): passed ${g.passed}, failed ${g.failed}, inconclusive ${g.inconclusive}, error ${g.error}`;
    return { ...c, status: g.gate, reason, evidence: { ...c.evidence, lastRunStatus: c.status } };
  });
  // Every run's harness errors, so the report's checks and errors alone give the gate's verdict
  // (what `meshquake report` recomputes).
  const errors = reports.flatMap((r, i) => (r === last ? r.errors : r.errors.map((e) => ({ ...e, message: `run ${i + 1} of ${runs}: ${e.message}` }))));
  return { report: { ...last, checks, errors, verdict: summary.verdict, exitCode: summary.exitCode, repeat: summary }, summary };
}

