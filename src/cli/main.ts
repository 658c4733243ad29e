// The command line: the only place that reads argv and env and decides exit codes. Each command's
// modules are imported when that command runs, never before: `--help`, `validate` or `schema`
// load neither the Docker client nor the load generator nor the reporters.
import { Command, CommanderError, Option } from "commander";
import { unknownReporterNames, REPORTER_NAMES } from "../report/reporter-names.js";
import type { RunReport } from "../model/run-report.js";
import { ALLOW_OUTSIDE_FLAG } from "../scenario/allow-outside-flag.js";
import { DockerHostError, DockerUnavailableError } from "../runtime/docker-errors.js";
import { configureDebug } from "../util/debug.js";
import { PACKAGE_ROOT, packageVersion } from "../util/package-root.js";
import { safeJson, safeLine, safeText } from "../util/safe-text.js";
import { EXIT, exitCodeFor, overallVerdict } from "../verdict/verdict.js";
import { useColor } from "./color.js";
import { PULL_POLICIES, type PullPolicy } from "../runtime/pull-image.js";
import { optionValue, parseSeed, pullValue, seedValue } from "./env-options.js";
import { helpFooter } from "./help-text.js";
import { message, processIo, type CliIo } from "./io.js";
import type { LoadOptions } from "./load-or-report.js";
import type { RunOptions } from "./run-command.js";
import { UsageError } from "./usage-error.js";

export type { CliIo } from "./io.js";

const DEFAULT_OUT = "reports";
const DEFAULT_REPORTERS = REPORTER_NAMES.join(",");

interface GlobalOptions {
  color: boolean;
  verbose?: boolean;
}

export async function main(argv: string[], rawIo: CliIo = processIo()): Promise<number> {
  // Messages carry file names, scenario text and app output: no raw control character or
  // workflow command reaches the terminal. stdout stays raw for the reporters, which sanitise
  // what they render themselves (the console reporter paints with its own escapes).
  const io: CliIo = { ...rawIo, stderr: (s) => rawIo.stderr(safeText(s)) };
  const out = (s: string) => rawIo.stdout(safeText(s));
  let exitCode: number = EXIT.passed;
  const version = packageVersion();
  const program = new Command("meshquake")
    .description("Chaos and fault injection for service meshes: one scenario, a real meshed topology, verdicts.")
    .version(version)
    .option("--no-color", "no ANSI colour, whatever NO_COLOR, FORCE_COLOR and the terminal say")
    .option("--verbose", "debug lines on stderr: Docker calls, readiness probe errors, step timings (as DEBUG=meshquake:*)")
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: io.stderr })
    .showHelpAfterError()
    .addHelpText("after", helpFooter(PACKAGE_ROOT));
  const globals = () => program.opts<GlobalOptions>();
  const color = () => useColor({ flag: globals().color, env: io.env, isTTY: io.isTTY });
  configureDebug(io.env.DEBUG ?? "", io.stderr);
  program.hook("preAction", () => {
    if (globals().verbose) configureDebug("meshquake:*", io.stderr);
  });

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
    .action(async () => {
      const { scenarioJsonSchema } = await import("../scenario/spec.js");
      io.stdout(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    });

  program
    .command("plan")
    .description("dry run: print pods, rendered sidecar configs, windows and the fault timeline")
    .argument("<scenario>")
    .option("--seed <n>", "override the scenario's seed (env MESHQUAKE_SEED)", seedFlag)
    .addOption(dataPlaneOption())
    .addOption(allowOutsideOption())
    .option("--no-configs", "leave out the rendered sidecar configurations")
    .action(async (file: string, o: LoadOptions & { configs: boolean }) => {
      const [{ loadOrReport }, { buildPlan }, { dataPlaneFor }, { printPlan }] = await Promise.all([
        import("./load-or-report.js"),
        import("../plan/plan.js"),
        import("../dataplane/registry.js"),
        import("../plan/print-plan.js"),
      ]);
      const scenario = await loadOrReport(file, io, { ...o, seed: seedValue(o.seed, io.env) });
      if (!scenario) return void (exitCode = EXIT.usage);
      const plan = buildPlan({ scenario, runId: "mq-plan", image: "meshquake/mesh:<content hash>", dataPlane: dataPlaneFor(scenario.dataPlane) });
      out(printPlan(plan, { configs: o.configs }));
    });

  program
    .command("run")
    .description("build each scenario's topology, drive load, inject faults, judge, tear down")
    .argument("<scenario...>")
    .option("--out <dir>", `where reports go: <dir>/<scenario-name>/ (default: ${DEFAULT_OUT}; env MESHQUAKE_OUT)`)
    .option("--reporter <names>", `comma list of ${REPORTER_NAMES.join(", ")} (default: all; env MESHQUAKE_REPORTER)`)
    .option("--seed <n>", "override the scenario's seed (env MESHQUAKE_SEED)", seedFlag)
    .addOption(dataPlaneOption())
    .addOption(allowOutsideOption())
    .addOption(pullOption())
    .option("--quiet", "only the verdict summary: no progress, no step log, no list of artefacts")
    .option("--json", "print report.json to stdout instead of the console summary")
    .option("--repeat <n>", "run each scenario n times; a check passes only when it passes in every run (or --quorum)", positiveInt("--repeat"))
    .option("--quorum <m>", "with --repeat: runs a check must pass in (default: all of them)", positiveInt("--quorum"))
    .addHelpText("after", helpFooter(PACKAGE_ROOT))
    .action(async (files: string[], flags: Omit<RunOptions, "out" | "reporter"> & { out?: string; reporter?: string }) => {
      if (flags.quorum !== undefined && flags.quorum > (flags.repeat ?? 1)) {
        throw new UsageError(`--quorum ${flags.quorum} is more than the ${flags.repeat ?? 1} run(s) of --repeat`);
      }
      const o: RunOptions = {
        ...flags,
        out: optionValue(flags.out, io.env, "out", DEFAULT_OUT),
        reporter: checkedReporters(optionValue(flags.reporter, io.env, "reporter", DEFAULT_REPORTERS)),
        seed: seedValue(flags.seed, io.env),
        pull: pullValue(flags.pull, io.env),
      };
      const { runCommand } = await import("./run-command.js");
      exitCode = await runCommand(files, o, io, { version, color: color() });
    });

  program
    .command("report")
    .description("re-render the artefacts of a report.json without running anything")
    .argument("<report.json>")
    .option("--out <dir>", `output directory (default: ${DEFAULT_OUT}; env MESHQUAKE_OUT)`)
    .option("--reporter <names>", `comma list of ${REPORTER_NAMES.join(", ")} (default: all; env MESHQUAKE_REPORTER)`)
    .action(async (file: string, flags: { out?: string; reporter?: string }) => {
      const outDir = optionValue(flags.out, io.env, "out", DEFAULT_OUT);
      const reporters = checkedReporters(optionValue(flags.reporter, io.env, "reporter", DEFAULT_REPORTERS));
      const [{ readReport }, { writeAll }] = await Promise.all([import("../report/json.js"), import("./artefacts.js")]);
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
      exitCode = await writeAll(report, outDir, reporters, io, color());
      if (exitCode === EXIT.passed) exitCode = report.exitCode;
    });

  program
    .command("judge")
    .description("judge a finished run again from its recording (<out>/<scenario>/), with its scenario or an edited one whose checks changed; no Docker")
    .argument("<run-dir>", "a run's artefact folder holding recording.ndjson.gz, or the recording itself")
    .option("--scenario <file>", "judge with this scenario instead of the recorded one (only checks:, description: and acknowledge: may differ)")
    .option("--out <dir>", `where the fresh artefacts go: <dir>/<scenario-name>/ (default: ${DEFAULT_OUT}; env MESHQUAKE_OUT)`)
    .option("--reporter <names>", `comma list of ${REPORTER_NAMES.join(", ")} (default: all; env MESHQUAKE_REPORTER)`)
    .option("--quiet", "only the verdict summary: no list of artefacts")
    .addOption(allowOutsideOption())
    .action(async (target: string, flags: { scenario?: string; out?: string; reporter?: string; allowOutsideImports?: boolean; quiet?: boolean }) => {
      const { judgeCommand } = await import("./judge-command.js");
      exitCode = await judgeCommand(
        target,
        {
          ...flags,
          out: optionValue(flags.out, io.env, "out", DEFAULT_OUT),
          reporter: checkedReporters(optionValue(flags.reporter, io.env, "reporter", DEFAULT_REPORTERS)),
        },
        io,
        { color: color() },
      );
    });

  program
    .command("up")
    .description("build a scenario's topology and keep it up (no load, no verdicts): prints its ingress and Toxiproxy API; Ctrl-C tears it down")
    .argument("<scenario>", "scenario YAML file")
    .option("--seed <n>", "override the scenario's seed (env MESHQUAKE_SEED)", seedFlag)
    .addOption(allowOutsideOption())
    .addOption(pullOption())
    .action(async (file: string, o: { seed?: number; allowOutsideImports?: boolean; pull?: PullPolicy }) => {
      const { up } = await import("./up-command.js");
      exitCode = await up(file, { allowOutsideImports: o.allowOutsideImports, seed: seedValue(o.seed, io.env), pull: pullValue(o.pull, io.env) }, io);
    });

  program
    .command("init")
    .description("write a starter scenario and a GitHub Actions workflow that runs it as a gate")
    .argument("[dir]", "the project folder", ".")
    .option("--force", "overwrite files that exist")
    .action(async (dir: string, o: { force?: boolean }) => {
      const { init } = await import("./init.js");
      exitCode = await init(dir, { force: Boolean(o.force) }, io);
    });

  program
    .command("doctor")
    .description("check this machine can run scenarios: Node, the Docker engine, meshquake's images, a browser")
    .action(async () => {
      const { doctor } = await import("./doctor.js");
      exitCode = await doctor(io);
    });

  program
    .command("clean")
    .description("remove what meshquake runs left behind (containers, networks, run directories) whose harness is gone")
    .option("--all", "also remove runs that are still going on (their harness is alive, or on another host)")
    .option("--images", "also remove meshquake's older built images that nothing uses (keeps the current one and the base)")
    .action(async (o: { all?: boolean; images?: boolean }) => {
      const { clean } = await import("./clean-command.js");
      exitCode = await clean({ all: Boolean(o.all), images: Boolean(o.images) }, io);
    });

  program
    .command("images")
    .description("build the mesh image if its content changed (offline base via debootstrap when no registry)")
    .option("--force", "rebuild even when the tag exists")
    .action(async (o: { force?: boolean }) => {
      const { images } = await import("./images-command.js");
      exitCode = await images({ force: Boolean(o.force) }, io);
    });

  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT.usage;
    if (err instanceof UsageError || err instanceof DockerHostError) {
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

/** The reporter list when every name in it is a reporter; otherwise a usage error naming the known ones. */
function checkedReporters(list: string): string {
  const unknown = unknownReporterNames(list);
  if (unknown.length) throw new UsageError(`unknown reporter ${unknown.map((r) => `"${r}"`).join(", ")}; known: ${REPORTER_NAMES.join(", ")}`);
  return list;
}

async function validate(files: string[], io: CliIo, o: { json?: boolean; allowOutsideImports?: boolean }): Promise<number> {
  const { validateFile, validationExitCode, validationLines } = await import("./validate.js");
  const results = [];
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

function dataPlaneOption(): Option {
  return new Option("--data-plane <name>", "override the scenario's data plane").choices(["haproxy", "envoy"]);
}

function pullOption(): Option {
  return new Option("--pull <policy>", "when a service's image: is pulled, as docker compose --pull (default: missing; env MESHQUAKE_PULL)").choices(PULL_POLICIES);
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

function seedFlag(v: string): number {
  const seed = parseSeed(v);
  if (seed === null) throw new CommanderError(2, "meshquake.seed", `--seed must be a non-negative integer, found "${v}"`);
  return seed;
}
