import { Command, CommanderError, Option } from "commander";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { availableDataPlanes, dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import { describeLoad } from "../plan/describe-load.js";
import { printPlan } from "../plan/print-plan.js";
import { readReport, serializeReport } from "../report/json.js";
import { REPORTER_NAMES, writeArtefacts } from "../report/reporters.js";
import type { RepeatSummary, RunReport } from "../report/types.js";
import { renderRepeatSummary, runRepeated } from "../run/repeat.js";
import { runScenario } from "../run/run-scenario.js";
import { cleanImages, cleanOrphans, type KeptRun } from "../runtime/clean.js";
import { connectDocker, DockerHostError, DockerUnavailableError } from "../runtime/docker.js";
import { ensureImages } from "../runtime/images.js";
import { formatProblem } from "../scenario/format-problem.js";
import { ALLOW_OUTSIDE_FLAG } from "../scenario/import-boundary.js";
import { readScenario } from "../scenario/load-scenario.js";
import { scenarioJsonSchema } from "../scenario/spec.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { safeJson, safeLine, safeText } from "../util/safe-text.js";
import { EXIT, exitCodeFor, overallVerdict } from "../verdict/verdict.js";
import { validateFile, validationExitCode, validationLines, type Validation } from "./validate.js";

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_REPORTERS = ["console", "json", "html", "junit", "markdown"] as const;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
  /** Process signals the run reacts to; tests pass their own emitter. */
  signals: Pick<NodeJS.Process, "on" | "off">;
}

const defaultIo = (): CliIo => ({
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  isTTY: Boolean(process.stdout.isTTY),
  signals: process,
});

/** The only place that reads argv and env and decides exit codes. */
export async function main(argv: string[], rawIo: CliIo = defaultIo()): Promise<number> {
  // Messages carry file names, scenario text and app output: no raw control character or
  // workflow command reaches the terminal. stdout stays raw for the reporters, which sanitise
  // what they render themselves (the console reporter paints with its own escapes).
  const io: CliIo = { ...rawIo, stderr: (s) => rawIo.stderr(safeText(s)) };
  const out = (s: string) => rawIo.stdout(safeText(s));
  let exitCode: number = EXIT.passed;
  const version = await toolVersion();
  const program = new Command("meshquake")
    .description("Chaos and fault injection for service meshes: one scenario, a real meshed topology, verdicts.")
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: io.stderr })
    .showHelpAfterError();

  program
    .command("validate")
    .description("check scenario files; report every problem with file:line:col")
    .argument("<scenario...>")
    .option("--json", "print problems as JSON")
    .addOption(allowOutsideOption())
    .action(async (files: string[], o: { json?: boolean; allowOutsideImports?: boolean }) => {
      exitCode = await validate(files, io, o);
    });

  program
    .command("schema")
    .description("print the scenario JSON Schema (for editors)")
    .action(() => io.stdout(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`));

  program
    .command("plan")
    .description("dry run: print pods, rendered sidecar configs, windows and the fault timeline")
    .argument("<scenario>")
    .option("--seed <n>", "override the scenario's seed", parseSeed)
    .addOption(dataPlaneOption())
    .addOption(allowOutsideOption())
    .option("--no-configs", "leave out the rendered sidecar configurations")
    .action(async (file: string, o: LoadOptions & { configs: boolean }) => {
      const scenario = await loadOrReport(file, io, o);
      if (!scenario) return void (exitCode = EXIT.usage);
      const plan = buildPlan({ scenario, runId: "mq-plan", image: "meshquake/mesh:<content hash>", dataPlane: dataPlaneFor(scenario.dataPlane) });
      out(printPlan(plan, { configs: o.configs }));
    });

  program
    .command("run")
    .description("build each scenario's topology, drive load, inject faults, judge, tear down")
    .argument("<scenario...>")
    .option("--out <dir>", "where reports go: <dir>/<scenario-name>/", "reports")
    .option("--reporter <names>", `comma list of ${DEFAULT_REPORTERS.join(", ")}`, DEFAULT_REPORTERS.join(","))
    .option("--seed <n>", "override the scenario's seed", parseSeed)
    .addOption(dataPlaneOption())
    .addOption(allowOutsideOption())
    .option("--quiet", "only the verdict summary")
    .option("--json", "print report.json to stdout instead of the console summary")
    .option("--repeat <n>", "run each scenario n times; a check passes only when it passes in every run (or --quorum)", positiveInt("--repeat"))
    .option("--quorum <m>", "with --repeat: runs a check must pass in (default: all of them)", positiveInt("--quorum"))
    .action(async (files: string[], o: RunOptions) => {
      if (o.quorum !== undefined && o.quorum > (o.repeat ?? 1)) {
        io.stderr(`meshquake: --quorum ${o.quorum} is more than the ${o.repeat ?? 1} run(s) of --repeat\n`);
        return void (exitCode = EXIT.usage);
      }
      exitCode = await run(files, o, io, version);
    });

  program
    .command("report")
    .description("re-render the artefacts of a report.json without running anything")
    .argument("<report.json>")
    .option("--out <dir>", "output directory", "reports")
    .option("--reporter <names>", `comma list of ${DEFAULT_REPORTERS.join(", ")}`, DEFAULT_REPORTERS.join(","))
    .action(async (file: string, o: { out: string; reporter: string }) => {
      const unknown = unknownReporters(o.reporter);
      if (unknown) {
        io.stderr(unknown);
        return void (exitCode = EXIT.usage);
      }
      let report: RunReport;
      try {
        report = await readReport(file);
      } catch (err) {
        io.stderr(`${message(err)}\n`);
        return void (exitCode = EXIT.usage);
      }
      // The exit code follows the checks and errors, judged as the run judges them, not a stored
      // field that an edit (or a bug) could have set to anything.
      const verdict = overallVerdict(report.checks, report.errors);
      const judged = exitCodeFor(verdict);
      if (verdict !== report.verdict || judged !== report.exitCode) {
        io.stderr(
          `meshquake: ${file} says verdict ${report.verdict} (exit ${report.exitCode}), but its checks and errors make it ` +
            `${verdict} (exit ${judged}); the artefacts and the exit code follow the checks\n`,
        );
        report = { ...report, verdict, exitCode: judged };
      }
      exitCode = await writeAll(report, o.out, o.reporter, io);
      if (exitCode === EXIT.passed) exitCode = report.exitCode;
    });

  program
    .command("clean")
    .description("remove what meshquake runs left behind (containers, networks, run directories) whose harness is gone")
    .option("--all", "also remove runs that are still going on (their harness is alive, or on another host)")
    .option("--images", "also remove meshquake's older built images that nothing uses (keeps the current one and the base)")
    .action(async (o: { all?: boolean; images?: boolean }) => {
      const { docker } = await connectDocker(io.env);
      const r = await cleanOrphans(docker, { all: Boolean(o.all) });
      out(`removed ${r.containers.length} container(s), ${r.networks.length} network(s) and ${r.runDirs.length} run director${r.runDirs.length === 1 ? "y" : "ies"}\n`);
      for (const k of r.kept) out(`kept ${k.runId}: ${keptBecause(k)}; --all removes it\n`);
      for (const e of r.errors) io.stderr(`could not remove ${e}\n`);
      if (o.images) {
        const current = await ensureImages(docker, { projectRoot: PROJECT_ROOT, log: (l) => io.stderr(`${l}\n`) });
        const images = await cleanImages(docker, [current.image]);
        out(`removed ${images.removed.length} unused image(s)${images.removed.length ? `: ${images.removed.join(", ")}` : ""}\n`);
        for (const e of images.errors) io.stderr(`could not remove ${e}\n`);
        r.errors.push(...images.errors);
      }
      if (r.errors.length) exitCode = EXIT.harness;
    });

  program
    .command("images")
    .description("build the mesh image if its content changed (offline base via debootstrap when no registry)")
    .option("--force", "rebuild even when the tag exists")
    .action(async (o: { force?: boolean }) => {
      const stop = interruptions(io);
      try {
        const { docker } = await connectDocker(io.env);
        const r = await ensureImages(docker, { projectRoot: PROJECT_ROOT, force: o.force, log: (l) => io.stderr(`${l}\n`), signal: stop.signal });
        out(`${r.image}${r.built ? ` (built in ${(r.ms / 1000).toFixed(1)} s)` : " (up to date)"}\n`);
      } catch (err) {
        if (!stop.signal.aborted) throw err;
        exitCode = EXIT.interrupted;
      } finally {
        stop.dispose();
      }
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
    if (err instanceof DockerHostError) {
      io.stderr(`meshquake: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof DockerUnavailableError) {
      io.stderr(`meshquake: ${err.message}\n`);
      return EXIT.harness;
    }
    io.stderr(`meshquake: ${message(err)}\n`);
    return EXIT.harness;
  }
}

interface LoadOptions {
  seed?: number;
  dataPlane?: string;
  allowOutsideImports?: boolean;
}

interface RunOptions extends LoadOptions {
  out: string;
  reporter: string;
  quiet?: boolean;
  json?: boolean;
  repeat?: number;
  quorum?: number;
}

async function run(files: string[], o: RunOptions, io: CliIo, version: string): Promise<number> {
  const unknown = unknownReporters(o.reporter);
  if (unknown) {
    io.stderr(unknown);
    return EXIT.usage;
  }
  const scenarios: ResolvedScenario[] = [];
  for (const f of files) {
    const s = await loadOrReport(f, io, o);
    if (!s) return EXIT.usage;
    scenarios.push(s);
  }
  const log = (l: string) => {
    if (!o.quiet) io.stderr(`${l}\n`);
  };
  // From here on a signal never kills the process: it stops what runs (an image build too) and
  // tears down, and the exit code is 130.
  const stop = interruptions(io);
  try {
    const { docker, version: dockerVersion, local } = await connectDocker(io.env);
    const { image } = await ensureImages(docker, { projectRoot: PROJECT_ROOT, log, signal: stop.signal });
    const codes: number[] = [];
    for (const scenario of scenarios) {
      if (stop.signal.aborted) break;
      log(`▶ ${scenario.name} (${scenario.source.file})`);
      const runOnce = (s: ResolvedScenario) =>
        runScenario(s, {
          docker,
          dockerVersion,
          image,
          log: (l) => log(`  ${l}`),
          signal: stop.signal,
          hurry: stop.hurry,
          adminTransport: local ? "host" : "exec",
          toolVersion: version,
        });
      const repeated = (o.repeat ?? 1) > 1 ? await repeatScenario(scenario, o, runOnce, stop.signal, log) : null;
      const report = repeated?.report ?? (await runOnce(scenario));
      if (o.json) io.stdout(`${safeJson(JSON.stringify(report, null, 2))}\n`);
      const reporters = o.json ? o.reporter.split(",").filter((r) => r !== "console").join(",") : o.reporter;
      const artefactCode = await writeAll(report, o.out, reporters, io);
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

/**
 * SIGINT and SIGTERM while a command works: the first stops it gracefully (load stopped, faults
 * reverted, everything torn down); the second hurries the teardown (the containers are removed at
 * once, which takes the faults with them); more only say what is going on. The process is never
 * killed by them, so it never exits leaving containers: only SIGKILL can.
 */
function interruptions(io: CliIo): { signal: AbortSignal; hurry: AbortSignal; dispose(): void } {
  const graceful = new AbortController();
  const hurry = new AbortController();
  let received = 0;
  const on = (sig: string) => () => {
    received++;
    if (received === 1) {
      io.stderr(`\nmeshquake: ${sig} received, stopping load, reverting faults and tearing down (again to hurry)...\n`);
      graceful.abort(new Error(`interrupted by ${sig}`));
    } else if (received === 2) {
      io.stderr(`meshquake: ${sig} again: removing the containers now, without reverting faults one by one...\n`);
      hurry.abort(new Error(`hurried by ${sig}`));
    } else {
      io.stderr("meshquake: still removing the containers; SIGKILL would leave them behind (`meshquake clean` removes them later)\n");
    }
  };
  const onInt = on("SIGINT");
  const onTerm = on("SIGTERM");
  io.signals.on("SIGINT", onInt);
  io.signals.on("SIGTERM", onTerm);
  return {
    signal: graceful.signal,
    hurry: hurry.signal,
    dispose() {
      io.signals.off("SIGINT", onInt);
      io.signals.off("SIGTERM", onTerm);
    },
  };
}

/**
 * --repeat: the runs one after another (src/run/repeat.ts), each one's report.json kept in
 * <out>/<name>/runs/; the last run's report carries the aggregate (`repeat`) and is the one the
 * reporters render.
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

function keptBecause(k: KeptRun): string {
  if (k.owner === null) return "it records no owner (made by an older meshquake, or by hand), so it may still be running";
  if (k.state === "alive") return `its harness (pid ${k.owner.pid}) is still running`;
  return `its harness ran on ${k.owner.host} (pid ${k.owner.pid}), which cannot be checked from here`;
}

/** The complaint about reporter names that do not exist, or null when all do. */
function unknownReporters(list: string): string | null {
  const unknown = list.split(",").map((r) => r.trim()).filter((r) => r && !(REPORTER_NAMES as string[]).includes(r));
  return unknown.length ? `meshquake: unknown reporter ${unknown.map((r) => `"${r}"`).join(", ")}; known: ${REPORTER_NAMES.join(", ")}\n` : null;
}

/** Most severe first: harness error, failed check, inconclusive, passed. */
export function worstExit(codes: number[]): number {
  const order = [EXIT.interrupted, EXIT.harness, EXIT.usage, EXIT.failed, EXIT.inconclusive, EXIT.passed];
  for (const c of order) if (codes.includes(c)) return c;
  return EXIT.passed;
}

async function writeAll(report: RunReport, out: string, reporterList: string, io: CliIo): Promise<number> {
  const names = reporterList.split(",").map((s) => s.trim()).filter(Boolean);
  const r = await writeArtefacts(report, { outDir: out, reporters: names, env: io.env, stdout: io.stdout, color: io.isTTY });
  for (const e of r.errors) io.stderr(`meshquake: reporter ${e.reporter} failed: ${e.message}\n`);
  if (r.written.length) io.stderr(`artefacts: ${r.written.join(", ")}\n`);
  return r.errors.length ? EXIT.harness : EXIT.passed;
}

async function validate(files: string[], io: CliIo, o: { json?: boolean; allowOutsideImports?: boolean }): Promise<number> {
  const results: Validation[] = [];
  for (const f of files) {
    const result = await validateFile(f, { allowOutsideImports: o.allowOutsideImports });
    results.push(result);
    if (o.json) continue;
    for (const line of validationLines(result)) io.stderr(`${line}\n`);
    if (result.valid) io.stdout(`${safeLine(`${f}: valid (${result.name}) · load: ${result.load!.summary}`)}\n`);
  }
  if (o.json) io.stdout(`${safeJson(JSON.stringify(results, null, 2))}\n`);
  return validationExitCode(results);
}

async function loadOrReport(file: string, io: CliIo, o: LoadOptions): Promise<ResolvedScenario | null> {
  // --data-plane is a usage choice: one this build does not have is refused before anything runs.
  if (o.dataPlane && !(availableDataPlanes() as string[]).includes(o.dataPlane)) {
    io.stderr(
      `meshquake: --data-plane ${o.dataPlane}: this build has no ${o.dataPlane} data plane; available: ${availableDataPlanes().join(", ")}\n`,
    );
    return null;
  }
  const { scenario, problems } = await readScenario(file, { seed: o.seed, allowOutsideImports: o.allowOutsideImports });
  for (const p of problems) io.stderr(`${safeLine(formatProblem(p))}\n`);
  if (!scenario || problems.some((p) => p.severity === "error")) return null;
  if (o.dataPlane) return { ...scenario, dataPlane: o.dataPlane as ResolvedScenario["dataPlane"] };
  return scenario;
}

function dataPlaneOption(): Option {
  return new Option("--data-plane <name>", "override the scenario's data plane").choices(["haproxy", "envoy"]);
}

function allowOutsideOption(): Option {
  return new Option(ALLOW_OUTSIDE_FLAG, "let the scenario import files from outside its own folder (compose, env_file, Istio files, build contexts)");
}

function positiveInt(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CommanderError(2, "meshquake.positive", `${flag} must be a positive integer, found "${v}"`);
    return n;
  };
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new CommanderError(2, "meshquake.seed", `--seed must be a non-negative integer, found "${v}"`);
  return n;
}

async function toolVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(resolve(PROJECT_ROOT, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
