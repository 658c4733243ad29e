// `run` for library users: one scenario, a file or one read already, end to end on the engine
// DOCKER_HOST names, meshquake's image built first when it is missing. `meshquake run` does the
// same with reporting, --repeat and signal handling around it. The pipeline (Docker client, load
// generator) is imported on the first call, so importing the package stays cheap.
import type { RunReport } from "../model/run-report.js";
import type { PullPolicy } from "../runtime/pull-image.js";
import { formatProblem } from "../scenario/format-problem.js";
import { readScenario } from "../scenario/load-scenario.js";
import type { Problem, ResolvedScenario } from "../scenario/types.js";
import { packageVersion } from "../util/package-root.js";

export interface RunOptions {
  /** Progress lines, as `meshquake run` prints them (default: none). */
  log?: (line: string) => void;
  /** Aborting it stops the run: load stopped, faults reverted, the topology removed. */
  signal?: AbortSignal;
  /** Where DOCKER_HOST, DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** A file's seed override (as --seed). */
  seed?: number;
  /** Let a file import from outside its folder (as --allow-outside-imports). */
  allowOutsideImports?: boolean;
  /** Write the run's recording there (`meshquake judge` reads it; docs/recording.md); default: none. */
  recordingPath?: string;
  /** When a service's `image:` is pulled, as `docker compose --pull`: "missing" (default), "never", "always". */
  pull?: PullPolicy;
}

/** A scenario file with errors: nothing ran. `problems` holds every one, located. */
export class ScenarioInvalidError extends Error {
  override name = "ScenarioInvalidError";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(`${file} is not a valid scenario:\n${problems.filter((p) => p.severity === "error").map(formatProblem).join("\n")}`);
  }
}

/** The run's report; its `verdict` and `exitCode` say what `meshquake run` would exit with. */
export async function run(scenario: string | ResolvedScenario, options: RunOptions = {}): Promise<RunReport> {
  const resolved = typeof scenario === "string" ? await readValid(scenario, options) : scenario;
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const { readyEngine, runOnEngine } = await import("../run/engine.js");
  const engine = await readyEngine({ env: options.env ?? process.env, log, signal });
  return runOnEngine(engine, resolved, {
    log,
    signal,
    toolVersion: packageVersion(),
    ...(options.recordingPath ? { recordingPath: options.recordingPath } : {}),
    ...(options.pull ? { pull: options.pull } : {}),
  });
}

/** A scenario file read and resolved; one with errors throws ScenarioInvalidError (every problem, located). */
export async function loadScenario(file: string, options: Pick<RunOptions, "seed" | "allowOutsideImports"> = {}): Promise<ResolvedScenario> {
  return readValid(file, options);
}

export async function readValid(file: string, options: Pick<RunOptions, "seed" | "allowOutsideImports">): Promise<ResolvedScenario> {
  const { scenario, problems } = await readScenario(file, { seed: options.seed, allowOutsideImports: options.allowOutsideImports });
  if (!scenario || problems.some((p) => p.severity === "error")) throw new ScenarioInvalidError(file, problems);
  return scenario;
}
