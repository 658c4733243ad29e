// What a run and a run on a held-up mesh (src/library/start-mesh.ts) say alike about how it went:
// the faults that failed, an interruption, the environment, a sidecar log that could not be kept.
import type { DataPlane } from "../dataplane/types.js";
import type { FaultTiming } from "../faults/scheduler.js";
import type { HarnessError, RunReport } from "../model/run-report.js";

export function interruptedError(): HarnessError {
  return { stage: "run", message: "interrupted: the run was stopped before it finished" };
}

/** A harness error for each fault whose apply or revert failed. */
export function faultErrors(records: readonly FaultTiming[]): HarnessError[] {
  return records.flatMap((t) => (t.error ? [{ stage: "faults" as const, message: `${t.name}: ${t.error}` }] : []));
}

export function runEnvironment(engine: { dockerVersion: string; image: string }, dataPlane: Pick<DataPlane, "name">): RunReport["environment"] {
  return { node: process.version, platform: `${process.platform}-${process.arch}`, docker: engine.dockerVersion, dataPlane: dataPlane.name, image: engine.image };
}

/** The sidecars' log store's write error, if any, as the report says it. */
export function meshLogError(store: { error: Error | null }): HarnessError[] {
  return store.error ? [{ stage: "observe", message: `the sidecars' log could not be kept on disk (${store.error.message}): what follows judges only what was written before` }] : [];
}
