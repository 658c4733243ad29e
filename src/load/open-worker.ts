// The open-loop generator's thread: its own event loop, so nothing the harness does (parsing
// sidecar logs, talking to Docker) delays a send. It sends with undici: one `Client` (one
// keep-alive connection, one request at a time) per request in flight, taken from a stack of
// idle ones and opened only when none is idle, so the connections in use follow the load and
// never exceed maxInFlight. undici is Node's own HTTP/1.1 client (it is what `fetch` runs on),
// parses with llhttp, and its dispatch API costs a few microseconds a request: it lets the
// scheduler own every decision (when, whether, timeouts) and still speak HTTP correctly
// (keep-alive, `Connection: close`, chunked bodies). Wake-ups come from the ticker thread.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { MessageChannel, parentPort, workerData } from "node:worker_threads";
import { Client, type Dispatcher } from "undici";
import { arrivalSchedule } from "./arrivals.js";
import { OpenLoop, type OpenSample } from "./open-loop.js";
import { requestId, SampleBatch, type GeneratorMessage, type GeneratorSettings, type HarnessMessage } from "./open-wire.js";
import { weightedIndexes } from "./request-mix.js";
import { Ticker } from "./ticker.js";
import { monotonicClock, raiseThreadPriority } from "../util/worker.js";
import { REQUEST_ID_HEADER } from "./request-id.js";

/** Closer than this to the next due time, the generator checks again at once instead of sleeping. */
const SPIN_BELOW_MS = Number(process.env.MQ_SPIN ?? 0.05);

async function main(settings: GeneratorSettings, port: NonNullable<typeof parentPort>): Promise<void> {
  const scheduling = raiseThreadPriority();
  const mono = monotonicClock();
  const post = (message: GeneratorMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  const origin = new URL(settings.url).origin;
  const idle: Client[] = [];
  let opened = 0;
  const acquire = (): Client => {
    const client = idle.pop();
    if (client) return client;
    opened++;
    // Timeouts are the scheduler's (measured from each request's due time): undici's are off.
    return new Client(origin, { pipelining: 1, headersTimeout: 0, bodyTimeout: 0, connectTimeout: settings.timeoutMs, keepAliveTimeout: 60_000 });
  };
  const release = (client: Client): void => void idle.push(client);

  // Before the start: open connections and compile the send path, unrecorded.
  let warmed = 0;
  for (let round = 0; round < settings.warmUp.rounds; round++) {
    await Promise.all(
      Array.from({ length: settings.warmUp.concurrency }, () => {
        const client = acquire();
        return new Promise<void>((resolve) => {
          const id = `${settings.requestIdPrefix}-warm-${(warmed++).toString(36)}`;
          const done = (): void => {
            clearTimeout(deadline);
            release(client);
            resolve();
          };
          const request = new Pending(0, client, done);
          const deadline = setTimeout(() => {
            request.abort();
            done();
          }, settings.timeoutMs);
          client.dispatch({ method: "GET", path: settings.warmUp.path, headers: [REQUEST_ID_HEADER, id] }, request);
        });
      }),
    );
  }

  const pending = new Map<number, Pending>();
  let batch = new SampleBatch();
  const flush = (): void => {
    if (batch.length === 0) return;
    const data = batch.take();
    post({ kind: "samples", data }, [data.buffer as ArrayBuffer]);
  };
  const { port1, port2 } = new MessageChannel();
  const ticker = new Ticker(port2);
  let loop: OpenLoop | null = null;
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
      post({ kind: "done", aborted, unfinished, connections: opened });
      for (const client of new Set([...idle, ...[...pending.values()].map((p) => p.client)])) void client.destroy().catch(() => {});
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
    const templates = settings.templates.map((t) => ({ ...t, body: t.body ?? undefined }));
    const l: OpenLoop = new OpenLoop({
      schedule: arrivalSchedule(settings),
      durationMs: settings.durationMs,
      maxInFlight: settings.maxInFlight,
      timeoutMs: settings.timeoutMs,
      nextTemplate: weightedIndexes(settings.weights),
      now,
      transport: {
        send(seq, template) {
          const t = templates[template]!;
          const client = acquire();
          const request = new Pending(seq, client, (s, status) => {
            pending.delete(s);
            release(client);
            l.settle(s, status);
            // An answer never makes a request due (nothing waits for a free slot): only the end can follow from it.
            if (l.done) finish(false);
          });
          pending.set(seq, request);
          client.dispatch(
            {
              method: t.method as Dispatcher.HttpMethod,
              path: t.path,
              headers: [...t.headers, REQUEST_ID_HEADER, requestId(settings.requestIdPrefix, seq)],
              body: t.body,
            },
            request,
          );
        },
        abort(seq) {
          const request = pending.get(seq);
          if (!request) return;
          pending.delete(seq);
          request.abort();
          // The aborted connection closes; undici reopens it for its next request.
          release(request.client);
        },
      },
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
  post({ kind: "ready", connections: opened, scheduling });
}

/** One request in flight: undici's handler, settling once with the status or a failure. */
class Pending implements Dispatcher.DispatchHandler {
  #status = 0;
  #controller: Dispatcher.DispatchController | null = null;
  #settled = false;

  constructor(
    readonly seq: number,
    readonly client: Client,
    private readonly onSettle: (seq: number, status: number | "error") => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.#status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    this.#settle(this.#status);
  }

  onResponseError(): void {
    this.#settle("error");
  }

  abort(): void {
    this.#settled = true;
    this.#controller?.abort(new Error("meshquake: request timed out"));
  }

  #settle(status: number | "error"): void {
    if (this.#settled) return;
    this.#settled = true;
    this.onSettle(this.seq, status);
  }
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
