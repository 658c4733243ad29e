// What every load generator takes and gives back, whichever model drives it.
import type { ClientSample } from "../observe/client-recorder.js";
import type { LoadModel, RequestTemplate } from "../scenario/types.js";
import type { ThreadScheduling } from "../util/worker.js";

export interface SampleSink {
  record(sample: ClientSample): void;
}

export interface CommonLoadOptions {
  /** Base URL of the ingress, e.g. http://127.0.0.1:PORT. */
  url: string;
  /** Requests per second, in total. */
  rate: number;
  durationMs: number;
  requests: readonly RequestTemplate[];
  signal?: AbortSignal;
  recorder: SampleSink;
  /** Wall clock (epoch ms) for `startedAtEpochMs`; intervals use the monotonic clock. Default Date.now. */
  clock?: () => number;
  /**
   * The zero of every recorded time, when the caller has already fixed it (the fault timeline
   * shares it). Default: the moment the load starts. Must not lie in the future.
   */
  startedAtEpochMs?: number;
  /** A request without a complete answer after this long is recorded as "timeout". Default 10 s. */
  timeoutMs?: number;
  /** Start of every request's x-request-id (`<prefix>-<n in base 36>`). Default: random, 8 characters. */
  requestIdPrefix?: string;
}

export interface LoadResult {
  model: LoadModel;
  startedAtEpochMs: number;
  /** From the start of load to the moment it stopped starting recorded requests. */
  durationMs: number;
  aborted: boolean;
  /** Requests recorded (due before the end and settled, or not sent). */
  recorded: number;
  /** Requests started before the end that were still in flight when the load stopped: not recorded. */
  unfinished: number;
  /** closed: requests autocannon wrote into a connection the server had announced it would close. */
  dropped: number;
  /** Connections the generator opened (open) or kept (closed). */
  connections: number;
  /** open: how the generator's threads were scheduled (see raiseThreadPriority). */
  scheduling?: ThreadScheduling;
  /** closed: one autocannon instance per group, started `1/groups` s apart. */
  groups?: { connections: number; rate: number; offsetMs: number }[];
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** A generator made ready (threads up, connections open) before the start of load. */
export interface PreparedLoad {
  /** Starts the load; `startedAtEpochMs` (default: now, never in the future) is the zero of every recorded time. */
  start(startedAtEpochMs?: number): Promise<LoadResult>;
  /** Releases a generator that was never started. */
  dispose(): Promise<void>;
}
