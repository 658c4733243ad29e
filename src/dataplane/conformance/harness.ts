// The conformance contract: what a data plane adapter must provide for the shared behavioural
// cases (cases.ts) to run against it. An adapter's test file supplies a harness (its DataPlane
// plus a way to start the plan's pods) and runs every case; no case knows which proxy it drives.
import type { ExecutionPlan } from "../../plan/types.js";
import { buildPlan } from "../../plan/plan.js";
import { parseScenario } from "../../scenario/load-scenario.js";
import type { ResolvedScenario } from "../../scenario/types.js";
import type { AccessLogEntry, AdminChannel, DataPlane, MeshEvent } from "../types.js";

/** A started topology, as the cases see it. */
export interface RunningMesh {
  scenario: ResolvedScenario;
  dataPlane: DataPlane;
  /** The ingress service's first replica, e.g. http://127.0.0.1:32768. */
  ingressUrl: string;
  /** Runtime channel to each pod's sidecar, by pod id ("payments-0"). */
  admin(pod: string): AdminChannel;
  /** Every request the sidecars logged so far (the data plane's parseLogLine). */
  entries(): AccessLogEntry[];
  /** Every try and policy event the sidecars logged so far (the data plane's parseEventLine). */
  events(): MeshEvent[];
  /** Stops a pod's application, leaving its sidecar running (a dead replica). */
  stopApp(pod: string): Promise<void>;
  startApp(pod: string): Promise<void>;
}

export interface StartedMesh extends RunningMesh {
  /** Removes everything the start created; safe to call more than once. */
  stop(): Promise<void>;
}

export interface ConformanceHarness {
  dataPlane: DataPlane;
  /** Image the plan's pods run (the fixture app and the proxy). */
  image: string;
  /** A run id for one case; every container and network the case creates carries it. */
  runId(caseName: string): string;
  /** Starts the plan's pods; resolves once a request crosses the mesh. */
  start(plan: ExecutionPlan): Promise<StartedMesh>;
  /** Where a case's measurements go (a test prints them). */
  log?(line: string): void;
}

/** Numbers a case measured, for the record. */
export type Measurements = Record<string, number | string | boolean>;

export interface ConformanceCase {
  name: string;
  /** A small scenario: services, policies, and a load block (only its target is used). */
  scenario: string;
  /** Per-pod environment for the fixture app, e.g. { "payments-0": { MQ_ERROR_RATE: "1" } }. */
  podEnv?: Record<string, Record<string, string>>;
  /** Drives the mesh and checks the behaviour; throws (node:assert) when it does not hold. */
  run(mesh: RunningMesh): Promise<Measurements>;
}

export class ConformanceSetupError extends Error {
  override name = "ConformanceSetupError";
}

/** The case's scenario, resolved; a scenario with errors is a bug in the case. */
export function caseScenario(c: ConformanceCase): ResolvedScenario {
  const { scenario, problems } = parseScenario(`${c.name}.yaml`, c.scenario);
  const errors = problems.filter((p) => p.severity === "error");
  if (!scenario || errors.length) {
    throw new ConformanceSetupError(`case ${c.name}: invalid scenario:\n${errors.map((p) => `  ${p.path}: ${p.message}`).join("\n")}`);
  }
  return scenario;
}

/** Plans the case for the harness's data plane, with its per-pod environment applied. */
export function casePlan(c: ConformanceCase, harness: ConformanceHarness): ExecutionPlan {
  const plan = buildPlan({ scenario: caseScenario(c), runId: harness.runId(c.name), image: harness.image, dataPlane: harness.dataPlane });
  for (const [pod, env] of Object.entries(c.podEnv ?? {})) {
    const p = plan.pods.find((x) => x.id === pod);
    if (!p) throw new ConformanceSetupError(`case ${c.name}: podEnv names ${pod}, which the scenario has not`);
    Object.assign(p.app.env, env);
  }
  return plan;
}

/** Starts the case's topology, runs it, and always stops what it started. */
export async function runConformanceCase(harness: ConformanceHarness, c: ConformanceCase): Promise<Measurements> {
  const mesh = await harness.start(casePlan(c, harness));
  try {
    const measured = await c.run(mesh);
    harness.log?.(`${c.name}: ${Object.entries(measured).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    return measured;
  } finally {
    await mesh.stop();
  }
}
