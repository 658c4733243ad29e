// Starting a worker thread from a module of this package, whether it runs as built JavaScript or
// as TypeScript through tsx (a checkout: `bin/meshquake.js` registers tsx in the main thread
// only, and a worker starts with no loader hooks).
import { execFileSync } from "node:child_process";
import { readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { setPriority } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, type WorkerOptions } from "node:worker_threads";

export function startModuleWorker(module: URL, options: WorkerOptions = {}): Worker {
  if (!module.pathname.endsWith(".ts")) return new Worker(module, options);
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist/esm/api/index.mjs"));
  const bootstrap =
    `import(${JSON.stringify(tsxApi.href)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })` +
    `.catch((err) => { process.nextTick(() => { throw err; }); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/**
 * One clock for every thread: CLOCK_MONOTONIC in ms. `performance.now()` counts from each
 * thread's own start, so it is shifted once onto the shared clock that `process.hrtime` reads.
 */
export function monotonicClock(): () => number {
  const offset = clockOffset();
  return () => performance.now() + offset;
}

/**
 * hrtime − performance.now(), read between two performance.now() calls; the tightest of a few
 * readings wins (a thread's first calls are slow: the first pair can be a millisecond apart).
 */
function clockOffset(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = 0;
  for (let i = 0; i < 16; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offset = hr - (before + after) / 2;
    }
  }
  return offset;
}

/** How a generator thread was scheduled: real-time (SCHED_FIFO), a raised nice value, or as any other thread. */
export type ThreadScheduling = "realtime" | "nice" | "normal";

/** This thread's id as Linux knows it (each thread has its own scheduling settings), or null elsewhere. */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    return Number.isInteger(tid) ? tid : null;
  } catch {
    return null;
  }
}

/**
 * Gives a thread of the load generator the CPU first, where the process may (Linux, as root):
 * the generator is the instrument, and on a small machine the system under test's containers
 * compete with it. Measured on a busy 2-core machine (load average 2.5), a thread woken every
 * 10 ms ran late by p99 23 ms at nice -10 and by p99 0.9 ms with SCHED_FIFO. Real-time first
 * (`chrt`: Node has no call for it), a nice value of -10 next, else nothing. The generator's
 * threads sleep between requests and never spin long, so a real-time priority takes no CPU from
 * the system under test, only latency; the kernel keeps 5% of each core for other threads
 * whatever happens. MESHQUAKE_GENERATOR_PRIORITY=normal turns it off.
 */
export function raiseThreadPriority(tid: number | null = currentThreadId(), env: NodeJS.ProcessEnv = process.env): ThreadScheduling {
  if (tid === null || env.MESHQUAKE_GENERATOR_PRIORITY === "normal") return "normal";
  try {
    execFileSync("chrt", ["--fifo", "--pid", String(REALTIME_PRIORITY), String(tid)], { stdio: "ignore", timeout: 2000 });
    return "realtime";
  } catch {
    // no chrt, or not allowed: try a nice value
  }
  try {
    setPriority(tid, THREAD_NICE);
    return "nice";
  } catch {
    return "normal";
  }
}

const REALTIME_PRIORITY = 10;
const THREAD_NICE = -10;
