// Runs the open-loop generator (open-worker.ts) on its own thread and turns what it sends back
// into client samples: latency from each request's due time, the actual send time beside it,
// and `notSent` for requests the in-flight cap held back. Two steps, so that booting the
// thread and opening connections happen before the start of load, not in its first second.
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Worker } from "node:worker_threads";
import type { Arrivals, GrpcCall } from "../scenario/types.js";
import { monotonicClock, startModuleWorker } from "../util/worker.js";
import { DEFAULT_TIMEOUT_MS, type CommonLoadOptions, type LoadResult, type PreparedLoad } from "./load-types.js";
import { decodeSamples, requestId, type GeneratorMessage, type GeneratorSettings, type HarnessMessage, type WireTemplate } from "./open-wire.js";
import { newRequestIdPrefix, REQUEST_ID_HEADER } from "./request-id.js";

export interface OpenLoadOptions extends CommonLoadOptions {
  arrivals: Arrivals;
  seed: number;
  maxInFlight: number;
  /** Path of the unrecorded warm-up requests sent before the start (default: the first GET of the mix, else "/"). A gRPC load warms up with its call. */
  warmUpPath?: string;
  /** Sends this gRPC call over HTTP/2 instead of the HTTP requests (whose one template then only names its path). */
  grpc?: GrpcCall | null;
}

/** How often the generator hands over what settled. */
const BATCH_MS = 50;
/** Warm-up: this many rounds of warmUpConcurrency requests at once. */
const WARM_UP_ROUNDS = 3;

/**
 * Connections to open before the start: what the rate keeps in flight at 10 ms a request, at least
 * 8, at most 256 (and maxInFlight). Opening a connection costs both ends far more than a request
 * on an open one; a fast load that starts with too few opens hundreds in its first second, slows
 * the target doing so, and falls behind (measured: 4,000 connections in the first second at
 * 6,000 req/s against a local server that answers in 0.1 ms, when only 8 were open at the start).
 */
export function warmUpConcurrency(rate: number, maxInFlight: number): number {
  return Math.min(maxInFlight, Math.max(8, Math.min(256, Math.ceil(rate * 0.01))));
}

export async function runOpenLoad(opts: OpenLoadOptions): Promise<LoadResult> {
  const load = await prepareOpenLoad(opts);
  return load.start(opts.startedAtEpochMs);
}

export async function prepareOpenLoad(opts: OpenLoadOptions): Promise<PreparedLoad> {
  validate(opts);
  const clock = opts.clock ?? Date.now;
  const prefix = opts.requestIdPrefix ?? newRequestIdPrefix();
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const settings: GeneratorSettings = {
    url: opts.url,
    templates: opts.requests.map(wireTemplate),
    weights: opts.requests.map((r) => r.weight),
    rate: opts.rate,
    arrivals: opts.arrivals,
    seed: opts.seed,
    durationMs: opts.durationMs,
    maxInFlight: opts.maxInFlight,
    timeoutMs,
    requestIdPrefix: prefix,
    grpc: opts.grpc ?? null,
    batchMs: BATCH_MS,
    warmUp: {
      path: opts.warmUpPath ?? opts.requests.find((r) => r.method.toUpperCase() === "GET")?.path ?? "/",
      concurrency: warmUpConcurrency(opts.rate, opts.maxInFlight),
      rounds: WARM_UP_ROUNDS,
    },
  };
  // open-worker.ts from the sources (tsx), open-worker.js when built.
  const worker: Worker = startModuleWorker(new URL(`./open-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url), {
    workerData: settings,
  });
  const messages = new GeneratorChannel(worker);
  let scheduling: LoadResult["scheduling"];
  try {
    ({ scheduling } = await messages.next("ready", timeoutMs * (WARM_UP_ROUNDS + 1) + 10_000));
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const paths = opts.requests.map((r) => r.path);

  return {
    async start(startedAt?: number): Promise<LoadResult> {
      const wallNow = clock();
      const startedAtEpochMs = Math.min(startedAt ?? wallNow, wallNow);
      const result = (aborted: boolean, recorded: number, unfinished: number, connections: number, durationMs: number): LoadResult => ({
        model: "open",
        startedAtEpochMs,
        durationMs,
        aborted,
        recorded,
        unfinished,
        dropped: 0,
        connections,
        scheduling,
      });
      if (opts.signal?.aborted) {
        await worker.terminate();
        return result(true, 0, 0, 0, 0);
      }
      let recorded = 0;
      messages.onSamples = (data) => {
        for (const s of decodeSamples(data)) {
          recorded++;
          opts.recorder.record({
            startUs: Math.round(s.intendedMs * 1000),
            latencyUs: Math.max(0, (s.doneMs - s.intendedMs) * 1000),
            status: s.status,
            id: requestId(prefix, s.seq),
            path: paths[s.template]!,
            ...(s.sentMs === null ? {} : { sentUs: Math.round(s.sentMs * 1000) }),
          });
        }
      };
      const stop = (): void => worker.postMessage({ kind: "stop" } satisfies HarnessMessage);
      opts.signal?.addEventListener("abort", stop, { once: true });
      try {
        const t0MonotonicMs = monotonicClock()() - (wallNow - startedAtEpochMs);
        worker.postMessage({ kind: "start", t0MonotonicMs } satisfies HarnessMessage);
        const done = await messages.next("done", null);
        const endMs = done.aborted ? Math.min(opts.durationMs, clock() - startedAtEpochMs) : opts.durationMs;
        return result(done.aborted, recorded, done.unfinished, done.connections, endMs);
      } finally {
        opts.signal?.removeEventListener("abort", stop);
        await worker.terminate();
      }
    },
    async dispose(): Promise<void> {
      await worker.terminate();
    },
  };
}

/** The generator thread's messages, awaited one kind at a time; samples go to `onSamples` as they come. */
class GeneratorChannel {
  onSamples: (data: Float64Array) => void = () => {};
  #waiting: { kind: string; resolve: (m: GeneratorMessage) => void; reject: (e: Error) => void } | null = null;
  #failure: Error | null = null;

  constructor(worker: Worker) {
    const fail = (err: Error): void => {
      this.#failure ??= err;
      this.#waiting?.reject(err);
      this.#waiting = null;
    };
    worker.on("message", (m: GeneratorMessage) => {
      if (m.kind === "samples") return this.onSamples(m.data);
      if (m.kind === "failed") return fail(new Error(`the load generator failed: ${m.message}`));
      if (this.#waiting?.kind === m.kind) {
        this.#waiting.resolve(m);
        this.#waiting = null;
      }
    });
    worker.once("error", (err) => fail(new Error(`the load generator failed: ${err.message}`)));
    worker.once("exit", (code) => fail(new Error(`the load generator stopped (exit code ${code}) before the load ended`)));
  }

  next<K extends GeneratorMessage["kind"]>(kind: K, timeoutMs: number | null): Promise<Extract<GeneratorMessage, { kind: K }>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === null ? undefined : setTimeout(() => reject(new Error(`the load generator did not get ready within ${timeoutMs} ms (warm-up requests to the ingress)`)), timeoutMs);
      this.#waiting = {
        kind,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Extract<GeneratorMessage, { kind: K }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }
}

function wireTemplate(t: CommonLoadOptions["requests"][number]): WireTemplate {
  const headers: string[] = [];
  // The generator owns x-request-id: two requests sharing one id could not be told apart.
  for (const [name, value] of Object.entries(t.headers)) if (name.toLowerCase() !== REQUEST_ID_HEADER) headers.push(name, value);
  return { method: t.method.toUpperCase(), path: t.path, headers, body: t.body };
}

function validate(opts: OpenLoadOptions): void {
  if (!(opts.rate > 0) || !Number.isFinite(opts.rate)) throw new RangeError(`load rate must be a positive number, got ${opts.rate}`);
  if (!Number.isInteger(opts.maxInFlight) || opts.maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${opts.maxInFlight}`);
  if (!(opts.durationMs > 0)) throw new RangeError(`load duration must be positive, got ${opts.durationMs} ms`);
  if (opts.requests.length === 0) throw new RangeError("load needs at least one request");
  if (new URL(opts.url).protocol !== "http:") throw new RangeError(`the open-loop generator speaks plain HTTP, got ${opts.url}`);
}
