// What a bench reads off one open-loop load: sent vs intended, errors, latency and lag percentiles.
import { fileURLToPath } from "node:url";
import type { OpenLoadOptions } from "../../src/load/open-driver.js";
import { isClientError, type ClientSample } from "../../src/observe/client-recorder.js";
import type { GrpcCall } from "../../src/scenario/types.js";

export type ProbeSample = ClientSample;

export interface OpenSummary {
  rate: number;
  intended: number;
  sent: number;
  errors: number;
  p50Us: number;
  p99Us: number;
  lagP99Us: number;
}

export const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;

export function summarize(rate: number, samples: readonly ClientSample[]): OpenSummary {
  const sent = samples.filter((s) => s.sentUs !== undefined);
  const lat = sent.map((s) => s.latencyUs).sort((a, b) => a - b);
  const lag = sent.map((s) => s.sentUs! - s.startUs).sort((a, b) => a - b);
  return {
    rate,
    intended: samples.length,
    sent: sent.length,
    errors: samples.filter((s) => isClientError(s.status)).length,
    p50Us: quantile(lat, 0.5),
    p99Us: quantile(lat, 0.99),
    lagP99Us: quantile(lag, 0.99),
  };
}

/** The fixture's unary gRPC call (fixtures/service/meshquake.proto), as a resolved gRPC load has it. */
export const FIXTURE_CALL: GrpcCall = {
  method: "meshquake.Fixture/Call",
  message: {},
  metadata: {},
  protoFile: fileURLToPath(new URL("../../fixtures/service/meshquake.proto", import.meta.url)),
};

/**
 * The benches' open load: GET / at `rate` for `seconds` (or, with `grpc`, that call over HTTP/2),
 * constant arrivals, every sample kept in `samples`.
 */
export function benchLoad(url: string, rate: number, seconds: number, samples: ClientSample[], grpc: GrpcCall | null = null): OpenLoadOptions {
  return {
    url,
    rate,
    durationMs: seconds * 1000,
    requests: [grpc ? { method: "POST", path: `/${grpc.method}`, headers: grpc.metadata, body: null, weight: 1 } : { method: "GET", path: "/", headers: {}, body: null, weight: 1 }],
    grpc,
    arrivals: "constant",
    seed: 1,
    maxInFlight: 5000,
    timeoutMs: 5000,
    recorder: { record: (s) => samples.push(s) },
  };
}
