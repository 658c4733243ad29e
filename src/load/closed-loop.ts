// Drives the scenario's load with autocannon, in process, and records every request itself in
// microseconds. What autocannon 8.0.0 does, read from node_modules/autocannon/lib and measured:
//
// Timing. Each connection (lib/httpClient.js) sends one request at a time (pipelining 1) and
// emits 'request' synchronously just before it queues and writes the request; its 'response'
// event carries the response time as a float of milliseconds taken with process.hrtime from
// that queueing to the fully parsed response. That value has sub-microsecond resolution: only
// autocannon's own histogram (integer ms, and with a rate set, "corrected" for coordinated
// omission with a wrong interval) loses it, so we never read autocannon's percentiles.
// `setupClient` hands us each connection before its first request, so listening to 'request'
// there gives every send time (see ConnectionTracker for which latency we keep).
// Failures: 'connError' fires before the connection reconnects and sends again; on a timeout
// the connection reconnects and sends the next request *before* emitting 'timeout', so a
// 'request' that finds one still in flight sets it aside until the same tick shows whether it
// timed out; otherwise the peer closed the connection under it and it is an "error" — unless
// the last response announced `Connection: close`: then autocannon wrote it into a socket it
// should not have used, the system under test never saw it, and it is counted as `dropped`.
// A request lost that way is only noticed at the connection's next send, up to 1 s later
// when its quota for the second is spent; its error latency then reads long.
//
// Request ids. Every request carries its own `x-request-id` (the fixture forwards it on every
// call and the sidecars log it), so a failed client request can be traced hop by hop. The id is
// written into the request's bytes as the connection sends them: `Client.getRequestBuffer` is
// the one call between autocannon building a request and writing it (lib/httpClient.js
// _doRequest), so the tracker knows exactly which id is in flight. A template's own
// x-request-id is replaced: two requests sharing one id could not be told apart.
//
// Burstiness. With `overallRate` or `connectionRate`, a connection sends its per-second quota
// back to back, then idles until a 1 s interval started when it was created refills it. All of an
// instance's connections are created together, so the whole quota arrives at the start of each
// second. Measured against a local server (steady seconds 1-3 of a 4 s run, arrivals counted in
// 100 ms slices; CV = coefficient of variation of inter-arrival times, 1 for Poisson):
//   rate, conns, service    one instance, overallRate                 runLoad (staggered)
//   100   10     20 ms      busiest slice 50 (ideal 10), 23/30 empty,  10, 0/30 empty, CV 0.73
//                           293 of each 100 in the first 200 ms, CV 9.0
//   200   16      5 ms      200 (ideal 20), 27/30 empty, CV 15.3       22, 0/30 empty, CV 0.29
//   1000  64      5 ms      841 (ideal 100), 24/30 empty, CV 31.7      111, 0/30 empty, CV 1.82
// `connectionRate` behaves the same (it is the same per-connection quota) and no other option
// paces requests. What does help is the phase of that 1 s interval: we run one autocannon instance
// per group of connections and start group g at g/G of a second (planGroups). A group costs
// ~2.5 MB (autocannon allocates three 64-bit, 5-digit WASM histograms per instance), so there are
// at most STAGGER_GROUPS_MAX: a burst every 1/16 s at worst. The generator stays closed-loop
// within a connection: when responses slow down a connection cannot send its quota, the rest of
// that second's quota is lost, and the achieved rate falls to at most connections / latency.
import type { EventEmitter } from "node:events";
import autocannon from "autocannon";
import type { ClientSample, ClientStatus } from "../observe/client-recorder.js";
import type { RequestTemplate } from "../scenario/types.js";
import type { CommonLoadOptions, LoadResult } from "./load-types.js";
import { DEFAULT_TIMEOUT_MS } from "./load-types.js";
import { newRequestIdPrefix, REQUEST_ID_HEADER } from "./request-id.js";
import { createRequestMix } from "./request-mix.js";

/** More groups smooth arrivals further but cost ~2.5 MB each (see above). */
export const STAGGER_GROUPS_MAX = 16;
/** autocannon acts on stop() at its next sample tick; this is that tick. */
const STOP_POLL_MS = 50;
const DEFAULT_DRAIN_MS = 1_000;

export interface ClosedLoadOptions extends CommonLoadOptions {
  connections: number;
  /**
   * After the duration, how long requests already in flight may still finish (the load continues
   * meanwhile, unrecorded, so they finish under the same conditions). Default 1 s; 0 stops at once.
   * Not applied on abort.
   */
  drainMs?: number;
}

interface Group {
  connections: number;
  rate: number;
  offsetMs: number;
}

/** Splits rate and connections over staggered groups; each group gets at least one request a second per connection. */
export function planGroups(rate: number, connections: number): Group[] {
  // autocannon itself lowers connections to the rate when the rate is smaller.
  const conns = Math.min(connections, rate);
  const count = Math.min(conns, STAGGER_GROUPS_MAX);
  return Array.from({ length: count }, (_, g) => ({
    connections: share(conns, count, g),
    rate: share(rate, count, g),
    offsetMs: (g * 1000) / count,
  }));
}

function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

export async function runClosedLoad(opts: ClosedLoadOptions): Promise<LoadResult> {
  validate(opts);
  const clock = opts.clock ?? Date.now;
  const timeoutMs = Math.max(1000, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const drainMs = Math.max(0, opts.drainMs ?? DEFAULT_DRAIN_MS);
  const groups = planGroups(opts.rate, opts.connections);
  const requests = autocannonRequests(opts.requests);
  const ids = requestIds(opts.requestIdPrefix ?? newRequestIdPrefix());

  const wallNow = clock();
  const startedAtEpochMs = Math.min(opts.startedAtEpochMs ?? wallNow, wallNow);
  const t0 = performance.now() - (wallNow - startedAtEpochMs);
  const now = (): number => performance.now() - t0;
  const connections = groups.reduce((n, g) => n + g.connections, 0);
  const result = (endMs: number, aborted: boolean, counts: Pick<LoadResult, "recorded" | "unfinished" | "dropped">): LoadResult =>
    ({ model: "closed", startedAtEpochMs, durationMs: endMs, aborted, ...counts, connections, groups });
  if (opts.signal?.aborted) return result(0, true, { recorded: 0, unfinished: 0, dropped: 0 });

  /** Requests started at or after this are not recorded. */
  let endMs = Number.POSITIVE_INFINITY;
  let aborted = false;
  let stopped = false;
  let failure: unknown = null;
  let recorded = 0;
  let dropped = 0;
  /** In-flight requests the drain still waits for. */
  let draining = 0;
  const trackers: ConnectionTracker[] = [];
  const instances: autocannon.Instance[] = [];
  /** Cancels a group that has not started yet. */
  const cancels = new Set<() => void>();
  let durationTimer: NodeJS.Timeout | undefined;
  let drainTimer: NodeJS.Timeout | undefined;

  const stopNow = (): void => {
    if (stopped) return;
    stopped = true;
    clearTimeout(drainTimer);
    for (const instance of instances) instance.stop();
  };

  const end = (drain: boolean): void => {
    for (const cancel of cancels) cancel();
    cancels.clear();
    if (endMs !== Number.POSITIVE_INFINITY) return stopNow();
    endMs = now();
    clearTimeout(durationTimer);
    draining = drain ? trackers.filter((t) => t.inFlight).length : 0;
    if (draining === 0 || drainMs === 0) stopNow();
    else drainTimer = setTimeout(stopNow, drainMs);
  };

  /** A request left the books: settled with a sample, or dropped (sample null). */
  const finish = (startMs: number, sample: Settled | null): void => {
    if (startMs >= endMs) return;
    if (sample === null) dropped++;
    else {
      opts.recorder.record({ startUs: Math.round(startMs * 1000), ...sample });
      recorded++;
    }
    if (draining > 0 && --draining === 0) stopNow();
  };

  const onAbort = (): void => {
    aborted = true;
    end(false);
  };

  const launch = (group: Group, resolve: () => void): void => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: group.connections,
        overallRate: group.rate,
        ignoreCoordinatedOmission: true,
        // A backstop only: every instance is stopped by end() or stopNow().
        duration: (opts.durationMs - group.offsetMs + drainMs) / 1000 + 5,
        sampleInt: STOP_POLL_MS,
        timeout: timeoutMs / 1000,
        requests,
        setupClient: (client) => {
          trackers.push(new ConnectionTracker(client as unknown as TrackedClient, now, finish, ids));
        },
      },
      (err: unknown) => {
        if (err) {
          failure ??= err;
          end(false);
        }
        resolve();
      },
    );
    instances.push(instance);
    if (stopped) instance.stop();
  };

  const done = groups.map(
    (group) =>
      new Promise<void>((resolve) => {
        if (group.offsetMs === 0) return launch(group, resolve);
        const timer = setTimeout(() => {
          cancels.delete(cancel);
          launch(group, resolve);
        }, group.offsetMs);
        const cancel = (): void => {
          clearTimeout(timer);
          resolve();
        };
        cancels.add(cancel);
      }),
  );
  if (failure !== null) end(false); // autocannon rejected the options: start no other group
  else durationTimer = setTimeout(() => end(true), Math.max(0, opts.durationMs - now()));
  opts.signal?.addEventListener("abort", onAbort, { once: true });

  try {
    await Promise.all(done);
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    clearTimeout(durationTimer);
    clearTimeout(drainTimer);
  }
  if (failure !== null) throw failure instanceof Error ? failure : new Error(String(failure));
  const unfinished = trackers.filter((t) => t.inFlightBefore(endMs)).length;
  return result(endMs, aborted, { recorded, unfinished, dropped });
}

/** What a sample carries besides its start: the response, and which request it was. */
type Settled = Omit<ClientSample, "startUs">;

/** The autocannon client (lib/httpClient.js) as far as the tracker uses it. */
type TrackedClient = EventEmitter & { getRequestBuffer: () => Buffer };

/** One request on the wire: when it was sent, its id and its request-target. */
interface Sent {
  startMs: number;
  id: string | null;
  path: string | null;
}

function requestIds(prefix: string): () => string {
  let n = 0;
  return () => `${prefix}-${(n++).toString(36)}`;
}

const CRLF = Buffer.from("\r\n");

/** The request with `x-request-id: <id>` after its request line; null when it is not an HTTP request. */
export function withRequestId(request: Buffer, id: string): Buffer | null {
  const eol = request.indexOf(CRLF);
  if (eol < 0) return null;
  return Buffer.concat([request.subarray(0, eol + 2), Buffer.from(`${REQUEST_ID_HEADER}: ${id}\r\n`), request.subarray(eol + 2)]);
}

/** "GET /cart?x=1 HTTP/1.1" → "/cart?x=1". */
function requestTarget(request: Buffer): string | null {
  const first = request.indexOf(32);
  const second = first < 0 ? -1 : request.indexOf(32, first + 1);
  return second < 0 ? null : request.toString("latin1", first + 1, second);
}

/**
 * Follows one autocannon connection (pipelining 1: at most one request in flight) and finishes
 * each request exactly once: with its response, as "timeout" or "error", or dropped.
 */
class ConnectionTracker {
  #inFlight: Sent | null = null;
  #lost: Sent | null = null;
  #closeAnnounced = false;

  constructor(
    client: TrackedClient,
    private readonly now: () => number,
    private readonly finish: (startMs: number, sample: Settled | null) => void,
    nextId: () => string,
  ) {
    // Called right after 'request' (below) for the request about to be written: tag it.
    const buffer = client.getRequestBuffer.bind(client);
    client.getRequestBuffer = () => {
      const request = buffer();
      const sent = this.#inFlight;
      if (sent === null || sent.id !== null) return request;
      const id = nextId();
      const tagged = withRequestId(request, id);
      if (tagged === null) return request;
      sent.id = id;
      sent.path = requestTarget(request);
      return tagged;
    };
    client.on("request", () => this.#onRequest());
    client.on("headers", (info: unknown) => {
      if (typeof info === "object" && info !== null && (info as { shouldKeepAlive?: unknown }).shouldKeepAlive === false) {
        this.#closeAnnounced = true;
      }
    });
    // Nested spans: autocannon's responseTime (its queue entry to the parsed response) lies inside
    // ours (the 'request' event to this listener), which adds 25-150 µs of autocannon's own
    // bookkeeping at low rates, so autocannon's is the better number. Except that after a
    // connection error or a close by the peer, autocannon reconnects without clearing its queue
    // and from then on times each response from the previous request's start: a value longer
    // than our span, which a correct one can never be. min() keeps whichever is right.
    client.on("response", (status: number, _bytes: number, responseTimeMs: number) => {
      const sent = this.#inFlight;
      if (sent === null) return;
      this.#inFlight = null;
      const oursUs = (this.now() - sent.startMs) * 1000;
      this.finish(sent.startMs, { latencyUs: Math.min(oursUs, responseTimeMs * 1000), status, ...idOf(sent) });
    });
    client.on("timeout", () => {
      // autocannon has already reconnected and sent the next request: the one that timed out
      // is the one #onRequest set aside, or still in flight if the rate held the next one back.
      if (this.#lost !== null) {
        const sent = this.#lost;
        this.#lost = null;
        this.#settle(sent, "timeout");
      } else if (this.#inFlight !== null) {
        const sent = this.#inFlight;
        this.#inFlight = null;
        this.#settle(sent, "timeout");
      } // else an idle connection's timer fired: nothing was waiting
    });
    client.on("connError", () => {
      const sent = this.#inFlight;
      if (sent === null) return;
      this.#inFlight = null;
      this.#settleFailure(sent, this.#takeCloseAnnounced());
    });
  }

  get inFlight(): boolean {
    return this.#inFlight !== null;
  }

  inFlightBefore(endMs: number): boolean {
    return this.#inFlight !== null && this.#inFlight.startMs < endMs;
  }

  #onRequest(): void {
    const now = this.now();
    if (this.#inFlight !== null) {
      // A new request while one is in flight: autocannon reconnected without a response.
      const closeAnnounced = this.#takeCloseAnnounced();
      this.#lost = this.#inFlight;
      queueMicrotask(() => {
        if (this.#lost === null) return; // claimed by 'timeout'
        const sent = this.#lost;
        this.#lost = null;
        this.#settleFailure(sent, closeAnnounced);
      });
    }
    this.#inFlight = { startMs: now, id: null, path: null };
  }

  #settle(sent: Sent, status: ClientStatus): void {
    this.finish(sent.startMs, { latencyUs: (this.now() - sent.startMs) * 1000, status, ...idOf(sent) });
  }

  /** The server said it would close the connection: the request never reached it. */
  #settleFailure(sent: Sent, closeAnnounced: boolean): void {
    if (closeAnnounced) this.finish(sent.startMs, null);
    else this.#settle(sent, "error");
  }

  #takeCloseAnnounced(): boolean {
    const announced = this.#closeAnnounced;
    this.#closeAnnounced = false;
    return announced;
  }
}

type AutocannonRequest = NonNullable<autocannon.Options["requests"]>[number];

function idOf(sent: Sent): Pick<ClientSample, "id" | "path"> {
  return { ...(sent.id === null ? {} : { id: sent.id }), ...(sent.path === null ? {} : { path: sent.path }) };
}

/** One static request, or one request rebuilt before every send from the weighted mix. */
function autocannonRequests(templates: readonly RequestTemplate[]): AutocannonRequest[] {
  const toRequest = (t: RequestTemplate): AutocannonRequest => ({
    method: t.method.toUpperCase() as AutocannonRequest["method"],
    path: t.path,
    // The driver owns x-request-id (see "Request ids" above).
    headers: Object.fromEntries(Object.entries(t.headers).filter(([k]) => k.toLowerCase() !== REQUEST_ID_HEADER)),
    ...(t.body === null ? {} : { body: t.body }),
  });
  if (templates.length === 1) return [toRequest(templates[0]!)];
  const mix = createRequestMix(templates);
  const built = new Map(templates.map((t) => [t, toRequest(t)]));
  return [{ setupRequest: (req) => ({ ...req, body: undefined, ...built.get(mix.next()) }) }];
}

function validate(opts: ClosedLoadOptions): void {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`load ${name} must be a positive integer, got ${v}`);
  };
  positiveInt("rate", opts.rate);
  positiveInt("connections", opts.connections);
  if (!(opts.durationMs > 0)) throw new RangeError(`load duration must be positive, got ${opts.durationMs} ms`);
  if (opts.requests.length === 0) throw new RangeError("load needs at least one request");
  const url = new URL(opts.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new RangeError(`load url must be http(s), got ${opts.url}`);
  }
}
