// The open-loop generator's thread: its own event loop, so nothing the harness does (parsing
// sidecar logs, talking to Docker) delays a send. It sends through one transport chosen once for
// the load: HTTP/1.1 with undici (http-transport.ts) or gRPC calls over a pool of HTTP/2
// sessions (grpc-transport.ts); the scheduler (open-loop.ts) owns every decision (when, whether,
// timeouts) either way. Wake-ups come from the ticker thread.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { MessageChannel, parentPort, workerData } from "node:worker_threads";
import { arrivalSchedule } from "./arrivals.js";
import type { GeneratorTransport, Settle } from "./generator-transport.js";
import { httpTransport } from "./http-transport.js";
import { OpenLoop, type OpenSample } from "./open-loop.js";
import { SampleBatch, type GeneratorMessage, type GeneratorSettings, type HarnessMessage } from "./open-wire.js";
import { weightedIndexes } from "./request-mix.js";
import { Ticker } from "./ticker.js";
import { monotonicClock, raiseThreadPriority } from "../util/worker.js";

/** Closer than this to the next due time, the generator checks again at once instead of sleeping. */
const SPIN_BELOW_MS = Number(process.env.MQ_SPIN ?? 0.05);

/** The load's transport: gRPC loads its proto (and encodes the call) here, in this thread, and only for a gRPC load. */
async function openTransport(settings: GeneratorSettings, settle: Settle): Promise<GeneratorTransport> {
  if (settings.grpc === null) return httpTransport(settings, settle);
  const [{ grpcTransport }, { encodeCall }] = await Promise.all([import("./grpc-transport.js"), import("./grpc-proto.js")]);
  return grpcTransport({ ...settings, call: encodeCall(settings.grpc), metadata: settings.grpc.metadata }, settle);
}

async function main(settings: GeneratorSettings, port: NonNullable<typeof parentPort>): Promise<void> {
  const scheduling = raiseThreadPriority();
  const mono = monotonicClock();
  const post = (message: GeneratorMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  let loop: OpenLoop | null = null;
  const transport = await openTransport(settings, (seq, status) => {
    const l = loop!;
    l.settle(seq, status);
    // An answer never makes a request due (nothing waits for a free slot): only the end can follow from it.
    if (l.done) finish(false);
  });
  // Before the start: open connections and compile the send path, unrecorded.
  await transport.warmUp();

  let batch = new SampleBatch();
  const flush = (): void => {
    if (batch.length === 0) return;
    const data = batch.take();
    post({ kind: "samples", data }, [data.buffer as ArrayBuffer]);
  };
  const { port1, port2 } = new MessageChannel();
  const ticker = new Ticker(port2);
  let t0 = 0;
  const now = (): number => mono() - t0;
  let flushTimer: NodeJS.Timeout | undefined;
  let finished = false;

  const finish = (aborted: boolean): void => {
    if (finished) return;
    finished = true;
    clearInterval(flushTimer);
    port1.close();
    flush();
    const unfinished = loop?.counts.recordedInFlight ?? 0;
    void ticker.stop().then(() => {
      post({ kind: "done", aborted, unfinished, connections: transport.opened });
      transport.close();
    });
  };

  /** Sends what is due, then sleeps until the next due time or deadline. */
  const wake = (): void => {
    if (finished || loop === null) return;
    loop.pump();
    const next = loop.nextWakeMs();
    if (next === null) return finish(false);
    if (next - now() <= SPIN_BELOW_MS) setImmediate(wake);
    else ticker.wakeAt(next + t0);
  };

  const start = (t0MonotonicMs: number): void => {
    t0 = t0MonotonicMs;
    const l: OpenLoop = new OpenLoop({
      schedule: arrivalSchedule(settings),
      durationMs: settings.durationMs,
      maxInFlight: settings.maxInFlight,
      timeoutMs: settings.timeoutMs,
      nextTemplate: weightedIndexes(settings.weights),
      now,
      transport,
      onSample(sample: OpenSample) {
        batch.push(sample);
        if (batch.full) flush();
      },
    });
    loop = l;
    flushTimer = setInterval(flush, settings.batchMs);
    ticker.wakeAt(t0);
  };

  port1.on("message", wake);
  port.on("message", (m: HarnessMessage) => {
    if (m.kind === "start") start(m.t0MonotonicMs);
    else {
      loop?.stop();
      finish(true);
    }
  });
  const tickerTid = await ticker.ready;
  warmScheduler(settings);
  // Start clean: the garbage of booting the thread (modules, compilation, warm-up) would
  // otherwise be collected in the load's first second, a 10-30 ms stall (measured with --trace-gc).
  collectGarbage();
  // The ticker gets what this thread got (it cannot run chrt itself: it is a bare eval'd thread).
  if (scheduling !== "normal") raiseThreadPriority(tickerTid);
  post({ kind: "ready", connections: transport.opened, scheduling });
}

/**
 * Runs the scheduler's own code (pump, settle, batching) through tens of thousands of requests
 * against a fake clock and transport, so it is compiled before the load starts rather than in
 * its first second; nothing leaves the thread.
 */
function warmScheduler(settings: GeneratorSettings): void {
  let clock = 0;
  const batch = new SampleBatch();
  const loop: OpenLoop = new OpenLoop({
    schedule: arrivalSchedule({ rate: 10_000, arrivals: settings.arrivals, seed: settings.seed }),
    durationMs: 3000,
    maxInFlight: 64,
    timeoutMs: 1000,
    nextTemplate: weightedIndexes(settings.weights),
    now: () => clock,
    transport: { send: () => {}, abort: () => {} },
    onSample: (sample) => {
      batch.push(sample);
      if (batch.full) batch.take();
    },
  });
  for (let seq = 0; clock < 3000; clock += 1) {
    loop.pump();
    for (; seq < loop.counts.sent + loop.counts.notSent - 8; seq++) loop.settle(seq, 200);
  }
}

/** A full collection now, if V8 lets this thread ask for one. */
function collectGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
  } catch {
    // no gc() here: the first collections then happen under load
  }
}

if (parentPort) {
  const port = parentPort;
  main(workerData as GeneratorSettings, port).catch((err: unknown) => {
    port.postMessage({ kind: "failed", message: err instanceof Error ? err.message : String(err) } satisfies GeneratorMessage);
  });
}
