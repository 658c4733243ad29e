// The scenario's load, by its model: open (open-driver.ts: every request at its due time,
// whatever the system does) or closed (closed-loop.ts: autocannon's pool of connections).
import type { GeneratorStats } from "../observe/generator-recorder.js";
import type { LoadRecord } from "../report/types.js";
import type { ResolvedLoad } from "../scenario/types.js";
import { runClosedLoad } from "./closed-loop.js";
import type { CommonLoadOptions, LoadResult, PreparedLoad } from "./load-types.js";
import { prepareOpenLoad } from "./open-driver.js";

export type { LoadResult, PreparedLoad, SampleSink } from "./load-types.js";

export interface ScenarioLoadOptions extends Omit<CommonLoadOptions, "rate" | "durationMs" | "requests" | "timeoutMs" | "startedAtEpochMs"> {
  load: ResolvedLoad;
  /** Seeds Poisson arrivals. */
  seed: number;
}

/** Makes the generator ready (for an open load: its thread up and connections open) before the start of load. */
export async function prepareLoad(opts: ScenarioLoadOptions): Promise<PreparedLoad> {
  const { load, seed, ...common } = opts;
  const base = { ...common, rate: load.rate, durationMs: load.durationMs, requests: load.requests, timeoutMs: load.timeoutMs };
  if (load.model === "open") return prepareOpenLoad({ ...base, arrivals: load.arrivals, seed, maxInFlight: load.maxInFlight });
  return {
    start: (startedAtEpochMs) => runClosedLoad({ ...base, connections: load.connections, ...(startedAtEpochMs === undefined ? {} : { startedAtEpochMs }) }),
    dispose: async () => {},
  };
}

/** The part of a load result the report keeps (RunReport.load), with the generator's own account. */
export function loadRecord(result: LoadResult, load: ResolvedLoad, generator: GeneratorStats, lagToleranceUs: number): LoadRecord {
  return {
    durationMs: Math.round(result.durationMs),
    aborted: result.aborted,
    recorded: result.recorded,
    unfinished: result.unfinished,
    dropped: result.dropped,
    staggerGroups: result.groups?.length ?? 0,
    model: result.model,
    ...(load.model === "open" ? { arrivals: load.arrivals, maxInFlight: load.maxInFlight, lagToleranceUs, scheduling: result.scheduling ?? "normal" } : {}),
    rate: load.rate,
    connections: result.connections,
    intended: generator.intended,
    sent: generator.sent,
    notSent: generator.notSent,
    lagUs: generator.lagUs,
    perSecond: generator.perSecond,
    windows: generator.windows,
    keptUp: generator.keptUp,
  };
}
