// The scenario's load, by its model: open (open-driver.ts: every request at its due time,
// whatever the system does) or closed (closed-loop.ts: autocannon's pool of connections).
import type { ResolvedLoad } from "../scenario/types.js";
import { runClosedLoad } from "./closed-loop.js";
import type { CommonLoadOptions, PreparedLoad } from "./load-types.js";
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

