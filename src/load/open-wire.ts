// What crosses between the harness and the open-loop generator thread: its settings, batches of
// settled requests packed into a Float64Array (six numbers a request, transferred, not copied),
// and its end. Request ids are not sent: each is `<prefix>-<seq in base 36>`.
import { grpcStatusCode, grpcStatusName } from "../model/grpc-status.js";
import type { Arrivals, GrpcCall } from "../scenario/types.js";
import type { ThreadScheduling } from "../util/worker.js";
import type { OpenSample, OpenStatus } from "./open-loop.js";

export interface WireTemplate {
  method: string;
  path: string;
  /** Name, value, name, value… (undici's flat form); x-request-id is added per request. */
  headers: string[];
  body: string | null;
}

export interface GeneratorSettings {
  url: string;
  templates: WireTemplate[];
  weights: number[];
  rate: number;
  arrivals: Arrivals;
  seed: number;
  durationMs: number;
  maxInFlight: number;
  timeoutMs: number;
  /**
   * Before the start: rounds of this many requests at once to `warmUpPath` (unrecorded), so the
   * first scheduled requests find connections open and the send path compiled.
   */
  warmUp: { path: string; concurrency: number; rounds: number };
  requestIdPrefix: string;
  /** A gRPC load's call (sent as the one template's path, over HTTP/2); null for HTTP. */
  grpc: GrpcCall | null;
  /** How often settled requests are sent back. */
  batchMs: number;
}

export type GeneratorMessage =
  | { kind: "ready"; connections: number; scheduling: ThreadScheduling }
  | { kind: "samples"; data: Float64Array }
  | { kind: "done"; aborted: boolean; unfinished: number; connections: number }
  | { kind: "failed"; message: string };

export type HarnessMessage = { kind: "start"; t0MonotonicMs: number } | { kind: "stop" };

export const STRIDE = 6;
const ERROR = -1;
const TIMEOUT = -2;
const NOT_SENT = -3;
/** A gRPC status travels as GRPC_BASE − code (below every other code). */
const GRPC_BASE = -100;

export function encodeStatus(status: OpenStatus): number {
  switch (status) {
    case "error":
      return ERROR;
    case "timeout":
      return TIMEOUT;
    case "notSent":
      return NOT_SENT;
    default:
      if (typeof status === "number") return status;
      return GRPC_BASE - (grpcStatusCode(status) ?? 2);
  }
}

export function decodeStatus(code: number): OpenStatus {
  switch (code) {
    case ERROR:
      return "error";
    case TIMEOUT:
      return "timeout";
    case NOT_SENT:
      return "notSent";
    default:
      return code <= GRPC_BASE ? grpcStatusName(GRPC_BASE - code) : code;
  }
}

/** Packs samples as they settle; `take()` hands over a full or partial batch. */
export class SampleBatch {
  readonly #data: Float64Array;
  #length = 0;

  /** Keep each batch a small object (well under V8's 128 KiB large-object size): a large one each flush is a major GC every few seconds. */
  constructor(readonly capacity = 1024) {
    this.#data = new Float64Array(capacity * STRIDE);
  }

  get length(): number {
    return this.#length;
  }

  get full(): boolean {
    return this.#length >= this.capacity;
  }

  push(s: OpenSample): void {
    const o = this.#length * STRIDE;
    const d = this.#data;
    d[o] = s.seq;
    d[o + 1] = s.intendedMs;
    d[o + 2] = s.sentMs ?? Number.NaN;
    d[o + 3] = s.doneMs;
    d[o + 4] = encodeStatus(s.status);
    d[o + 5] = s.template;
    this.#length++;
  }

  /** The samples so far, copied out (only as many as there are): the buffer stays for the next batch. */
  take(): Float64Array {
    const out = this.#data.slice(0, this.#length * STRIDE);
    this.#length = 0;
    return out;
  }
}

export function* decodeSamples(data: Float64Array): Generator<OpenSample> {
  for (let o = 0; o + STRIDE <= data.length; o += STRIDE) {
    const sent = data[o + 2]!;
    yield {
      seq: data[o]!,
      intendedMs: data[o + 1]!,
      sentMs: Number.isNaN(sent) ? null : sent,
      doneMs: data[o + 3]!,
      status: decodeStatus(data[o + 4]!),
      template: data[o + 5]!,
    };
  }
}

export function requestId(prefix: string, seq: number): string {
  return `${prefix}-${seq.toString(36)}`;
}
