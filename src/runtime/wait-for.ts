import { debug } from "../util/debug.js";

export class ReadinessTimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastError: string | null,
    readonly logTail: string[],
  ) {
    super(
      `Timed out after ${timeoutMs} ms waiting for ${what}.` +
        (lastError ? `\n  last probe error: ${lastError}` : "") +
        (logTail.length ? `\n  last log lines:\n${logTail.map((l) => `    | ${l}`).join("\n")}` : ""),
    );
    this.name = "ReadinessTimeoutError";
  }
}

const debugProbe = debug("meshquake:probe");

/** How long one probe may take before it counts as failed (and the next one starts). */
export const PROBE_TIMEOUT_MS = 5_000;
/** The shortest probe worth starting. */
const MIN_PROBE_MS = 20;
/** How long fetching the evidence for a timeout may take. */
const LOG_TAIL_TIMEOUT_MS = 3_000;

export interface WaitOptions {
  /** What is being waited for, in words: "payments-1 app answering GET /healthz". */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  /** One probe's own limit (default PROBE_TIMEOUT_MS, never past the overall deadline). */
  probeTimeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** Called on timeout to fetch the evidence (the container's last log lines). */
  logTail?: () => Promise<string[]>;
}

/**
 * Polls `probe` until it resolves true; a timeout says what it waited for and why it never came.
 * The deadline holds even when a probe never returns: each probe is raced against its own limit,
 * the deadline and the signal, and is handed a signal that aborts when it is given up on (so it
 * can cancel its request). An abort rejects at once with the signal's reason.
 */
export async function waitFor(probe: (signal: AbortSignal) => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const probeLimit = opts.probeTimeoutMs ?? PROBE_TIMEOUT_MS;
  let lastError: string | null = null;
  for (let probes = 0; ; probes++) {
    opts.signal?.throwIfAborted();
    const left = deadline - Date.now();
    // A probe squeezed into the deadline's last moments proves nothing: time out on the last one's evidence.
    if (probes > 0 && left < MIN_PROBE_MS) return timedOut(opts, lastError);
    const limit = Math.max(MIN_PROBE_MS, Math.min(probeLimit, left));
    try {
      if (await within(limit, opts.signal, probe)) return;
      lastError = null;
    } catch (err) {
      opts.signal?.throwIfAborted();
      lastError = err instanceof Error ? err.message : String(err);
      debugProbe(`${opts.what}: probe ${probes + 1} failed: ${lastError}`);
    }
    if (Date.now() >= deadline) return timedOut(opts, lastError);
    await sleep(Math.min(opts.intervalMs ?? 50, Math.max(0, deadline - Date.now())), opts.signal);
  }
}

async function timedOut(opts: WaitOptions, lastError: string | null): Promise<never> {
  const tail = opts.logTail
    ? await within(LOG_TAIL_TIMEOUT_MS, undefined, () => opts.logTail!()).catch((e: unknown) => [`(could not read logs: ${e instanceof Error ? e.message : String(e)})`])
    : [];
  throw new ReadinessTimeoutError(opts.what, opts.timeoutMs, lastError, tail);
}

/** The probe did not answer within its limit. */
export class ProbeTimeoutError extends Error {
  override name = "ProbeTimeoutError";
}

/**
 * `fn`'s result, or a rejection once `ms` pass (ProbeTimeoutError) or `signal` aborts (its
 * reason), whichever comes first. `fn` gets a signal that aborts when it is given up on.
 */
export function within<T>(ms: number, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const giveUp = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const stop = (reason: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      giveUp.abort(reason);
      reject(reason);
    };
    const onAbort = () => stop(signal!.reason);
    const timer = setTimeout(() => stop(new ProbeTimeoutError(`no answer within ${ms} ms`)), ms);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let run: Promise<T>;
    try {
      run = fn(giveUp.signal);
    } catch (err) {
      return stop(err);
    }
    run.then(
      (value) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        if (giveUp.signal.aborted) return; // already given up on: its late failure is not news
        stop(err);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
