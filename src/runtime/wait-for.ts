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

export interface WaitOptions {
  /** What is being waited for, in words: "payments-1 app answering GET /healthz". */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called on timeout to fetch the evidence (the container's last log lines). */
  logTail?: () => Promise<string[]>;
}

/** Polls `probe` until it resolves true; a timeout says what it waited for and why it never came. */
export async function waitFor(probe: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: string | null = null;
  for (;;) {
    opts.signal?.throwIfAborted();
    try {
      if (await probe()) return;
      lastError = null;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline) {
      const tail = opts.logTail ? await opts.logTail().catch((e) => [`(could not read logs: ${String(e)})`]) : [];
      throw new ReadinessTimeoutError(opts.what, opts.timeoutMs, lastError, tail);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
