// The engine a run uses: connected (DOCKER_HOST), with meshquake's image built for it. Shared by
// `meshquake run` and the package's `run()`: connect and build once, then run scenarios on it.
import type { RunReport } from "../model/run-report.js";
import { connectDocker, type Docker } from "../runtime/docker.js";
import { ensureImages } from "../runtime/images.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { PACKAGE_ROOT } from "../util/package-root.js";
import { runScenario, type RunContext } from "./run-scenario.js";

export interface ReadyEngine {
  docker: Docker;
  /** "<version> (API <api version>)", as the report records it. */
  dockerVersion: string;
  /** The mesh image pods run. */
  image: string;
  /** The engine shares this machine's files (see sharesFilesystem): admin sockets are reached directly. */
  local: boolean;
}

export interface ReadyOptions {
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Stops an image build in progress. */
  signal?: AbortSignal | undefined;
}

export async function readyEngine(opts: ReadyOptions): Promise<ReadyEngine> {
  const { docker, version, local } = await connectDocker(opts.env);
  const { image } = await ensureImages(docker, { projectRoot: PACKAGE_ROOT, log: opts.log, signal: opts.signal });
  return { docker, dockerVersion: version, image, local };
}

export interface RunOnEngineOptions {
  log: (line: string) => void;
  signal: AbortSignal;
  hurry?: AbortSignal | undefined;
  toolVersion: string;
  /** Where the run's recording goes (none when absent). */
  recordingPath?: string;
  /** Once a second while the load plays. */
  progress?: RunContext["progress"];
  pull?: RunContext["pull"];
}

/** One scenario on a ready engine (src/run/run-scenario.ts does the work). */
export function runOnEngine(engine: ReadyEngine, scenario: ResolvedScenario, opts: RunOnEngineOptions): Promise<RunReport> {
  return runScenario(scenario, {
    docker: engine.docker,
    dockerVersion: engine.dockerVersion,
    image: engine.image,
    adminTransport: engine.local ? "host" : "exec",
    log: opts.log,
    signal: opts.signal,
    hurry: opts.hurry,
    toolVersion: opts.toolVersion,
    ...(opts.recordingPath ? { recordingPath: opts.recordingPath } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
    ...(opts.pull ? { pull: opts.pull } : {}),
  });
}
