import { Command, CommanderError, Option } from "commander";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { dataPlaneFor } from "../dataplane/registry.js";
import { buildPlan } from "../plan/plan.js";
import { printPlan } from "../plan/print-plan.js";
import { readReport, serializeReport } from "../report/json.js";
import { REPORTER_NAMES, writeArtefacts } from "../report/reporters.js";
import type { RepeatSummary, RunReport } from "../report/types.js";
import { renderRepeatSummary, runRepeated } from "../run/repeat.js";
import { runScenario } from "../run/run-scenario.js";
import { cleanImages, cleanLeftovers } from "../runtime/clean.js";
import { connectDocker, DockerUnavailableError } from "../runtime/docker.js";
import { ensureImages } from "../runtime/images.js";
import { formatProblem } from "../scenario/format-problem.js";
import { readScenario } from "../scenario/load-scenario.js";
import { scenarioJsonSchema } from "../scenario/spec.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { EXIT } from "../verdict/verdict.js";

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
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let exitCode: number = EXIT.passed;
  const version = await toolVersion();
  const program = new Command("meshquake")
    .description("Chaos and fault injection for service meshes: one scenario, a real meshed topology, verdicts.")
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  program
    .command("validate")
    .description("check scenario files; report every problem with file:line:col")
    .argument("<scenario...>")
    .option("--json", "print problems as JSON")
    .action(async (files: string[], o: { json?: boolean }) => {
      exitCode = await validate(files, io, Boolean(o.json));
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
    .option("--no-configs", "leave out the rendered sidecar configurations")
    .action(async (file: string, o: { seed?: number; dataPlane?: string; configs: boolean }) => {
      const scenario = await loadOrReport(file, io, o);
      if (!scenario) return void (exitCode = EXIT.usage);
      const plan = buildPlan({ scenario, runId: "mq-plan", image: "meshquake/mesh:<content hash>", dataPlane: dataPlaneFor(scenario.dataPlane) });
      io.stdout(printPlan(plan, { configs: o.configs }));
    });

  program
    .command("run")
    .description("build each scenario's topology, drive load, inject faults, judge, tear down")
    .argument("<scenario...>")
    .option("--out <dir>", "where reports go: <dir>/<scenario-name>/", "reports")
    .option("--reporter <names>", `comma list of ${DEFAULT_REPORTERS.join(", ")}`, DEFAULT_REPORTERS.join(","))
    .option("--seed <n>", "override the scenario's seed", parseSeed)
    .addOption(dataPlaneOption())
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
      exitCode = await writeAll(report, o.out, o.reporter, io);
      if (exitCode === EXIT.passed) exitCode = report.exitCode;
    });

  program
    .command("clean")
    .description("remove every container and network a meshquake run left behind")
    .option("--images", "also remove meshquake's older built images that nothing uses (keeps the current one and the base)")
    .action(async (o: { images?: boolean }) => {
      const { docker } = await connectDocker(io.env);
      const r = await cleanLeftovers(docker);
      io.stdout(`removed ${r.containers.length} container(s) and ${r.networks.length} network(s)\n`);
      for (const e of r.errors) io.stderr(`could not remove ${e}\n`);
      if (o.images) {
        const current = await ensureImages(docker, { projectRoot: PROJECT_ROOT, log: (l) => io.stderr(`${l}\n`) });
        const images = await cleanImages(docker, [current.image]);
        io.stdout(`removed ${images.removed.length} unused image(s)${images.removed.length ? `: ${images.removed.join(", ")}` : ""}\n`);
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
      const { docker } = await connectDocker(io.env);
      const r = await ensureImages(docker, { projectRoot: PROJECT_ROOT, force: o.force, log: (l) => io.stderr(`${l}\n`) });
      io.stdout(`${r.image}${r.built ? ` (built in ${(r.ms / 1000).toFixed(1)} s)` : " (up to date)"}\n`);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
    if (err instanceof DockerUnavailableError) {
      io.stderr(`meshquake: ${err.message}\n`);
      return EXIT.harness;
    }
    io.stderr(`meshquake: ${message(err)}\n`);
    return EXIT.harness;
  }
}

interface RunOptions {
  out: string;
  reporter: string;
  seed?: number;
  dataPlane?: string;
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
  const { docker, version: dockerVersion } = await connectDocker(io.env);
  const log = (l: string) => {
    if (!o.quiet) io.stderr(`${l}\n`);
  };
  const { image } = await ensureImages(docker, { projectRoot: PROJECT_ROOT, log });

  const controller = new AbortController();
  let signalled: string | null = null;
  const onSignal = (sig: string) => () => {
    if (signalled) return;
    signalled = sig;
    io.stderr(`\nmeshquake: ${sig} received, stopping load, reverting faults and tearing down...\n`);
    controller.abort(new Error(sig));
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  io.signals.on("SIGINT", onInt);
  io.signals.on("SIGTERM", onTerm);
  try {
    const codes: number[] = [];
    for (const scenario of scenarios) {
      if (controller.signal.aborted) break;
      log(`▶ ${scenario.name} (${scenario.source.file})`);
      const runOnce = (s: ResolvedScenario) =>
        runScenario(s, {
          docker,
          dockerVersion,
          image,
          log: (l) => log(`  ${l}`),
          signal: controller.signal,
          toolVersion: version,
        });
      const repeated = (o.repeat ?? 1) > 1 ? await repeatScenario(scenario, o, runOnce, controller.signal, log) : null;
      const report = repeated?.report ?? (await runOnce(scenario));
      if (o.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      const reporters = o.json ? o.reporter.split(",").filter((r) => r !== "console").join(",") : o.reporter;
      const artefactCode = await writeAll(report, o.out, reporters, io);
      if (repeated && !o.json) io.stdout(renderRepeatSummary(repeated.summary));
      codes.push(repeated?.summary.exitCode ?? report.exitCode, artefactCode);
    }
    if (signalled) return EXIT.interrupted;
    return worstExit(codes);
  } finally {
    io.signals.off("SIGINT", onInt);
    io.signals.off("SIGTERM", onTerm);
  }
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
  return { report: { ...last, checks, verdict: summary.verdict, exitCode: summary.exitCode, repeat: summary }, summary };
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

async function validate(files: string[], io: CliIo, json: boolean): Promise<number> {
  let invalid = false;
  const all = [];
  for (const f of files) {
    const { scenario, problems } = await readScenario(f);
    if (!scenario || problems.some((p) => p.severity === "error")) invalid = true;
    const valid = Boolean(scenario) && !problems.some((p) => p.severity === "error");
    // The plan is pure: building it surfaces policy lint, placement and data-plane approximations too.
    const warnings = valid ? planWarnings(scenario!) : [];
    all.push({ file: f, valid, problems, warnings });
    if (!json) {
      for (const p of problems) io.stderr(`${formatProblem(p)}\n`);
      for (const w of warnings) io.stderr(`${f}: warning: ${w}\n`);
      if (valid) io.stdout(`${f}: valid (${scenario!.name})\n`);
    }
  }
  if (json) io.stdout(`${JSON.stringify(all, null, 2)}\n`);
  return invalid ? EXIT.usage : EXIT.passed;
}

function planWarnings(scenario: ResolvedScenario): string[] {
  try {
    return buildPlan({ scenario, runId: "mq-validate", image: "meshquake/mesh", dataPlane: dataPlaneFor(scenario.dataPlane) }).warnings;
  } catch (err) {
    return [`could not plan this scenario: ${message(err)}`];
  }
}

async function loadOrReport(file: string, io: CliIo, o: { seed?: number; dataPlane?: string }): Promise<ResolvedScenario | null> {
  const { scenario, problems } = await readScenario(file, { seed: o.seed });
  for (const p of problems) io.stderr(`${formatProblem(p)}\n`);
  if (!scenario || problems.some((p) => p.severity === "error")) return null;
  if (o.dataPlane) return { ...scenario, dataPlane: o.dataPlane as ResolvedScenario["dataPlane"] };
  return scenario;
}

function dataPlaneOption(): Option {
  return new Option("--data-plane <name>", "override the scenario's data plane").choices(["haproxy", "envoy"]);
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
