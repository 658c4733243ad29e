// One line saying what load a scenario gets and why: validate, plan and run print it.
import { formatDuration } from "../scenario/duration.js";
import type { ResolvedLoad } from "../scenario/types.js";

export function describeLoad(load: ResolvedLoad): string {
  if (load.model === "open") {
    const calls = load.protocol === "grpc" && load.grpc ? `gRPC ${load.grpc.method} over HTTP/2, ` : "";
    return (
      `${calls}open model, ${load.rate} req/s, ${load.arrivals} arrivals, at most ${load.maxInFlight} in flight, timeout ${formatDuration(load.timeoutMs)}, ` +
      `generator lag allowed ${formatDuration(load.maxLagMs)} at p99`
    );
  }
  return `closed model, ${load.rate} req/s over ${load.connections} connections (each waits for its answer: the load backs off when the system slows)`;
}
