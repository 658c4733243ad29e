// A tiny load driver for the conformance cases: closed-loop workers, optionally paced to a rate,
// each request timed from send to its last byte. Not the product's load generator (src/load/):
// cases need exact per-request results and tight control, not throughput.
import http from "node:http";

export interface Shot {
  /** Epoch ms when the request was sent. */
  at: number;
  /** HTTP status, or 0 when the request failed without one. */
  status: number;
  ms: number;
  error: string | null;
}

export interface DriveOptions {
  /** Requests in flight at most. */
  concurrency: number;
  /** Requests per second in all; unpaced (as fast as answers come) when absent. */
  rate?: number;
  /** Stop starting requests after this long... */
  durationMs?: number;
  /** ...or after this many, whichever comes first. */
  requests?: number;
  path?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

/** Drives `url` and returns every request's result, in the order they were started. */
export async function drive(url: string, opts: DriveOptions): Promise<Shot[]> {
  if (opts.durationMs === undefined && opts.requests === undefined) throw new Error("drive: give durationMs or requests");
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const shots: Shot[] = [];
  const t0 = Date.now();
  const end = opts.durationMs === undefined ? Number.POSITIVE_INFINITY : t0 + opts.durationMs;
  const limit = opts.requests ?? Number.POSITIVE_INFINITY;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const k = next++;
      if (k >= limit) return;
      if (opts.rate !== undefined) {
        const wait = t0 + (k * 1000) / opts.rate - Date.now();
        if (wait > 0) await sleep(wait);
      }
      if (Date.now() >= end) return;
      const shot = await one(`${url}${opts.path ?? "/"}`, agent, opts.timeoutMs ?? 10_000);
      shots[k] = shot;
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return shots.filter((s): s is Shot => s !== undefined);
}

function one(url: string, agent: http.Agent, timeoutMs: number): Promise<Shot> {
  return new Promise((resolve) => {
    const at = Date.now();
    const started = performance.now();
    const done = (status: number, error: string | null) => resolve({ at, status, ms: performance.now() - started, error });
    const req = http.get(url, { agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => done(res.statusCode ?? 0, null));
      res.on("error", (e) => done(0, e.message));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => done(0, e.message));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
