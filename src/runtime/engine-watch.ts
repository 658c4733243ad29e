// Notices, within seconds, that a run's infrastructure is gone: the Docker engine stopped or
// restarted (its event stream ends, a ping is refused, or pings stop answering), or one of the
// run's infra or sidecar containers died. A run that goes on without them measures the harness's
// breakage, not the system under test: the run stops and says why.
import type Docker from "dockerode";
import { streamingClient } from "./docker.js";
import { POD_LABEL, RUN_ID_LABEL, ROLE_LABEL } from "./labels.js";
import { ProbeTimeoutError, within } from "./wait-for.js";

export const PING_INTERVAL_MS = 1_000;
export const PING_TIMEOUT_MS = 2_000;

/** The run's infrastructure went away; `message` says what was seen. */
export class InfrastructureLostError extends Error {
  override name = "InfrastructureLostError";
  constructor(
    message: string,
    /** Epoch ms when it was noticed. */
    readonly at: number,
  ) {
    super(message);
  }
}

export interface EngineWatch {
  /** Aborts with an InfrastructureLostError when the infrastructure is lost. */
  readonly lost: AbortSignal;
  stop(): void;
}

export interface WatchOptions {
  runId: string;
  intervalMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** Errors that mean nobody is listening any more (stopped, restarting): lost at once. */
const GONE = new Set(["ECONNREFUSED", "ENOENT", "ECONNRESET", "EPIPE", "ENOTCONN"]);

export function watchEngine(docker: Docker, opts: WatchOptions): EngineWatch {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? PING_INTERVAL_MS;
  const timeout = opts.timeoutMs ?? PING_TIMEOUT_MS;
  const lost = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let events: (NodeJS.ReadableStream & { destroy(): void }) | null = null;

  const fail = (why: string) => {
    if (stopped || lost.signal.aborted) return;
    lost.abort(new InfrastructureLostError(why, now()));
    stop();
  };
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    events?.destroy();
  };

  let misses = 0;
  const ping = async () => {
    try {
      await pingEngine(docker, timeout);
      misses = 0;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? "";
      if (GONE.has(code)) return fail(`the Docker engine went away (${code}: ${errorMessage(err)})`);
      if (++misses >= 2) return fail(`the Docker engine stopped answering (${misses} pings without an answer: ${errorMessage(err)})`);
    }
    if (!stopped) timer = setTimeout(() => void ping(), interval);
  };
  timer = setTimeout(() => void ping(), interval);

  const filters = { type: ["container" as const], label: [`${RUN_ID_LABEL}=${opts.runId}`], event: ["die", "oom"] };
  streamingClient(docker)
    .getEvents({ filters })
    .then((stream) => {
      events = stream as NodeJS.ReadableStream & { destroy(): void };
      if (stopped) return events.destroy();
      let rest = "";
      stream.on("data", (chunk: Buffer) => {
        const lines = (rest + chunk.toString("utf8")).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) onEvent(line);
      });
      stream.on("end", () => fail("the Docker engine ended its event stream (stopped or restarting)"));
      stream.on("error", (err: Error) => fail(`the Docker engine's event stream broke (${err.message})`));
    })
    .catch((err: unknown) => fail(`the Docker engine's event stream could not be opened (${errorMessage(err)})`));

  const onEvent = (line: string) => {
    let e: { status?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      return;
    }
    const attrs = e.Actor?.Attributes ?? {};
    const role = attrs[ROLE_LABEL];
    // An app may die on purpose (a kill fault) or by itself (the system under test); the pod's
    // own machinery may not.
    if (role !== "proxy") return;
    const action = e.Action ?? e.status ?? "";
    const exit = attrs.exitCode !== undefined ? ` with exit code ${attrs.exitCode}` : "";
    fail(`the ${role} container of pod ${attrs[POD_LABEL] ?? "?"} (${attrs.name ?? "?"}) ${action === "oom" ? "ran out of memory" : `died${exit}`}`);
  };

  return { lost: lost.signal, stop };
}

/** One ping with a short deadline: rejects when the engine does not answer within `timeoutMs`. */
export function pingEngine(docker: Docker, timeoutMs = PING_TIMEOUT_MS): Promise<unknown> {
  // (dockerode takes an abortSignal on ping; its types do not say so.)
  return within(timeoutMs, undefined, (signal) => (docker.ping as (opts: { abortSignal: AbortSignal }) => Promise<unknown>)({ abortSignal: signal })).catch(
    (err: unknown) => {
      throw err instanceof ProbeTimeoutError ? new Error(`the Docker engine gave no answer to a ping within ${timeoutMs} ms`) : err;
    },
  );
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
