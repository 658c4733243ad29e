// The scenario's load, by its model: open (open-driver.ts: every request at its due time,
// whatever the system does, HTTP or gRPC) or closed (closed-loop.ts: autocannon's pool of
// connections, HTTP only).
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
  if (load.model === "open") return prepareOpenLoad({ ...base, arrivals: load.arrivals, seed, maxInFlight: load.maxInFlight, grpc: load.grpc });
  // Validation keeps a gRPC load open; a hand-made ResolvedLoad could still ask otherwise.
  if (load.grpc) throw new RangeError("a gRPC load is open only: the closed generator (autocannon) speaks HTTP/1.1");
  return {
    start: (startedAtEpochMs) => runClosedLoad({ ...base, connections: load.connections, ...(startedAtEpochMs === undefined ? {} : { startedAtEpochMs }) }),
    dispose: async () => {},
  };
}

/**
 * What can be known wrong about a load before anything starts: a gRPC call whose method is not
 * in its proto, or whose message does not fit its request type (a GrpcCallError saying which
 * services and fields the proto has). The proto library loads only for a gRPC load.
 */
export async function checkLoad(load: ResolvedLoad): Promise<void> {
  if (!load.grpc) return;
  const { encodeCall } = await import("./grpc-proto.js");
  encodeCall(load.grpc);
}
