// A wake-up thread for the open-loop generator. Node's timers have millisecond granularity and
// fire up to a millisecond late (measured here: lag p50 0.6 ms, p99 1.3 ms at 100-1,000 req/s),
// which would put the generator's own delay into every latency it records. This thread sleeps
// with Atomics.wait, which takes fractional milliseconds, and posts a message to the generator
// at each due time: a message wakes the generator's event loop at once (measured: lag p50
// 0.05-0.1 ms, p99 0.3-0.7 ms), without the cost of spinning.
//
// The protocol, over a SharedArrayBuffer: the generator writes the next due time (monotonic
// ms, see monotonicClock) and bumps a generation counter; the ticker wakes early when the
// counter changes, and posts once per generation when its time has come. A stop flag ends it.
import { Worker } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";

/** Sleeps until this close to the due time, then checks the clock in a loop (futex wake-ups run up to ~50 µs late). */
const SPIN_MS = 0.06;

const TICKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { shared, port, spinMs } = workerData;
const due = new Float64Array(shared, 0, 1);
const flags = new Int32Array(shared, 8, 2); // [generation, stop]
// The same clock as monotonicClock() (src/util/worker.ts): the tightest of 16 readings.
let offset = 0;
for (let i = 0, best = Infinity; i < 16; i++) {
  const before = performance.now();
  const hr = Number(process.hrtime.bigint()) / 1e6;
  const after = performance.now();
  if (after - before < best) { best = after - before; offset = hr - (before + after) / 2; }
}
const now = () => performance.now() + offset;
let tid = null;
try { tid = Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop()); } catch {}
require("node:worker_threads").parentPort.postMessage(tid); // the generator raises this thread's priority
let fired = 0;
while (Atomics.load(flags, 1) === 0) {
  const generation = Atomics.load(flags, 0);
  if (generation === fired) { Atomics.wait(flags, 0, generation); continue; }
  let moved = false;
  for (let wait = due[0] - now(); wait > 0; wait = due[0] - now()) {
    if (wait > spinMs && Atomics.wait(flags, 0, generation, wait - spinMs) !== "timed-out") { moved = true; break; }
    if (Atomics.load(flags, 0) !== generation) { moved = true; break; }
  }
  if (moved) continue;
  fired = generation;
  port.postMessage(generation);
}
port.close();
`;

export class Ticker {
  readonly #flags: Int32Array;
  readonly #due: Float64Array;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  /** Settles once the thread runs (a thread takes tens of milliseconds to start), with its Linux thread id when it has one. */
  readonly ready: Promise<number | null>;

  /** `port` receives one message per `wakeAt` whose time has come (unless a later `wakeAt` replaced it). */
  constructor(port: MessagePort) {
    const shared = new SharedArrayBuffer(16);
    this.#due = new Float64Array(shared, 0, 1);
    this.#flags = new Int32Array(shared, 8, 2);
    this.#worker = new Worker(TICKER_SOURCE, { eval: true, workerData: { shared, port, spinMs: SPIN_MS }, transferList: [port] });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once("exit", () => resolve()));
    this.ready = new Promise((resolve, reject) => {
      this.#worker.once("message", (tid: unknown) => resolve(typeof tid === "number" && Number.isInteger(tid) ? tid : null));
      this.#worker.once("error", reject);
    });
  }

  /** Wake the generator at this monotonic time (replacing any earlier request). */
  wakeAt(monotonicMs: number): void {
    this.#due[0] = monotonicMs;
    Atomics.add(this.#flags, 0, 1);
    Atomics.notify(this.#flags, 0);
  }

  async stop(): Promise<void> {
    Atomics.store(this.#flags, 1, 1);
    Atomics.add(this.#flags, 0, 1);
    Atomics.notify(this.#flags, 0);
    await this.#exited;
  }
}
