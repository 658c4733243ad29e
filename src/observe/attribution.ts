// Failure attribution: every failed client request traced to a cause. The load driver sends each
// request with its own x-request-id; the fixture forwards it on every call and each sidecar logs
// it (AccessLogEntry.traceId), so one id finds every hop the request took. From the ingress pod's
// inbound entry the walk follows the failed call down, hop by hop, to the deepest hop that failed,
// and names the cause there: what the caller's sidecar decided (breaker overflow, retries
// exhausted, a spent budget, a timeout, no healthy replica), what its last try hit, or what the
// callee did (an injected fault, its own error, a crash or a partition). Pure: no I/O.
import type { AccessLogEntry, AttemptEntry, MeshEvent } from "../dataplane/types.js";
import { FAULT_KIND_FACTS } from "../faults/kinds.js";
import { faultSpan, type SpanTimes } from "../faults/span.js";
import { partitionSides } from "../faults/targets.js";
import type { AttributedFailure, FailureAttribution } from "../model/run-report.js";
import type { FaultKind, ResolvedFault, ResolvedScenario } from "../scenario/types.js";
import type { FailedRequest } from "./client-recorder.js";
import { pushTo } from "../util/map-of-lists.js";

/**
 * What a failure is put down to. The first group is the caller sidecar's own decision, the second
 * what happened at or on the way to the callee, the third what the client saw before the mesh.
 */
export type AttributionCause =
  | "breaker-overflow"
  | "retries-exhausted"
  | "retry-budget-exhausted"
  | "overall-timeout"
  | "per-try-timeout"
  | "no-healthy-replica"
  | "no-route"
  | "injected-fault"
  | "app-error"
  | "rate-limited"
  | "partition"
  | "crash"
  | "connect-failure"
  | "reset"
  | "caller-abort"
  | "client-timeout"
  | "client-connection-error"
  | "unattributed";

/** A fault as attribution needs it: kind, the pods it acts on, and when it was on (ms from load start). */
export interface AttributionFault {
  name: string;
  kind: FaultKind;
  pods: string[];
  /** Partitions: the two sides, as pods. */
  sides?: [string[], string[]];
  startMs: number;
  endMs: number;
}

export interface AttributionInput {
  scenario: Pick<ResolvedScenario, "services" | "load" | "policies">;
  failed: { requests: readonly FailedRequest[]; dropped: number };
  /** Sidecar access-log entries and mesh events (tries), epoch ms; each read a few times (src/observe/mesh-rows.ts). */
  entries: Iterable<AccessLogEntry>;
  events: Iterable<MeshEvent>;
  loadStartEpochMs: number;
  faults: readonly AttributionFault[];
  /** Examples kept per cause. Default 3. */
  examplesPerCause?: number;
  /** Failed requests traced per pass over the log. Default TRACE_BATCH. */
  traceBatch?: number;
  /** Told what each examined failed request was put down to (blast_radius counts them by version). */
  onExplained?: (failure: FailedRequest, blame: FailureBlame) => void;
}

/** What one failed client request was put down to, and the pod whose answer (or silence) it was. */
export interface FailureBlame {
  cause: AttributionCause;
  fault: string | null;
  /**
   * The callee pod at the deepest hop that failed — the one that answered the failure, did not
   * answer in time, or could not be reached; null when a caller's sidecar decided it alone
   * (breaker, rotation, no route), before the mesh, or when the logs could not say.
   */
  pod: string | null;
}

interface Explanation {
  cause: AttributionCause;
  edge: { from: string; to: string } | null;
  fault: string | null;
  lastTry: string | null;
  hops: string[];
  detail: string;
  pod: string | null;
}

const podService = (pod: string) => pod.slice(0, pod.lastIndexOf("-"));
const isFailure = (status: number) => status >= 500 || status <= 0;
/** Faults the proxy does not name on the failures they cause are recognised by time and place. */
const attributedAs = (f: AttributionFault) => FAULT_KIND_FACTS[f.kind].attributedAs;

/** The faults of a run as attribution needs them, with the times they were on. */
export function attributionFaults(
  faults: readonly ResolvedFault[],
  records: readonly SpanTimes[],
  scenario: Pick<ResolvedScenario, "services">,
): AttributionFault[] {
  const replicasOf = (service: string) => scenario.services.find((s) => s.name === service)?.replicas ?? 0;
  return faults.map((f) => {
    const scheduled = { name: f.name, kind: f.kind, appliedAt: null, revertedAt: null, scheduledAt: f.atMs, scheduledEnd: f.atMs + f.durationMs };
    const { start: startMs, end: endMs } = faultSpan(records.find((x) => x.name === f.name) ?? scheduled);
    const out: AttributionFault = { name: f.name, kind: f.kind, pods: f.replicas.map((i) => `${f.target}-${i}`), startMs, endMs };
    if (f.kind === "partition") out.sides = partitionSides(f, replicasOf);
    return out;
  });
}

export function attributeFailures(input: AttributionInput): FailureAttribution {
  const ingress = input.scenario.load.target;
  // Indexed for one batch of failed requests at a time: memory follows the batch, not the run.
  let index = TraceIndex.EMPTY;
  const rel = (epochMs: number) => epochMs - input.loadStartEpochMs;
  const examplesPerCause = input.examplesPerCause ?? 3;
  const notes: string[] = [];

  const byCause: Record<string, number> = {};
  const byFault: Record<string, number> = {};
  const byLastTry: Record<string, number> = {};
  const byEdge = new Map<string, { from: string; to: string; failed: number; byCause: Record<string, number> }>();
  const examples: AttributedFailure[] = [];
  const shown: Record<string, number> = {};
  let traced = 0;

  const activeFault = (at: number, match: (f: AttributionFault) => boolean): AttributionFault | undefined =>
    input.faults.find((f) => at >= f.startMs - 50 && at <= f.endMs + 50 && match(f));

  /** A connection that failed from `callerPod` to `calleePod` (null: unknown replica) at `at` (ms). */
  const networkCause = (callerPod: string, calleeService: string, calleePod: string | null, at: number): { cause: AttributionCause; fault: string } | null => {
    const hits = (pods: string[]) => (calleePod === null ? pods.some((p) => podService(p) === calleeService) : pods.includes(calleePod));
    const crash = activeFault(at, (f) => attributedAs(f) === "crash" && hits(f.pods));
    if (crash) return { cause: "crash", fault: crash.name };
    const cut = activeFault(at, (f) => {
      if (attributedAs(f) !== "partition") return false;
      if (!f.sides) return hits(f.pods);
      const [a, b] = f.sides;
      return (a.includes(callerPod) && hits(b)) || (b.includes(callerPod) && hits(a));
    });
    return cut ? { cause: "partition", fault: cut.name } : null;
  };

  /** What the callee's inbound entry says about a failure it answered (or its subtree). */
  const explainInbound = (e: AccessLogEntry, hops: string[], depth: number): Explanation => {
    const service = e.route;
    const here = [...hops, e.pod];
    const injected = e.faults?.length ? e.faults.at(-1)! : e.fault;
    if (injected !== null && injected !== undefined && e.status >= 400) {
      return { cause: "injected-fault", edge: e.from ? { from: e.from, to: service } : { from: "client", to: service }, fault: injected, lastTry: null, hops: here, pod: e.pod, detail: `${e.pod} answered ${e.status} from fault ${injected}` };
    }
    const calls = e.traceId ? index.outboundOf(e.pod, e.traceId, e.ts) : [];
    const failedCall = calls.filter((o) => o.cause !== undefined ? o.cause !== "ok" : isFailure(o.status)).at(-1);
    if (failedCall && depth < 16) return explainOutbound(failedCall, here, depth + 1);
    const edge = e.from ? { from: e.from, to: service } : { from: "client", to: service };
    // The app could not be reached or died under the request: a crash if one was on.
    if (/^s[CH]|^S[CD]/.test(e.termination) || e.status === 503) {
      const net = networkCause(e.pod, service, e.pod, e.ts - input.loadStartEpochMs);
      if (net) return { cause: net.cause, edge, fault: net.fault, lastTry: null, hops: here, pod: e.pod, detail: `${e.pod}'s app did not answer (${e.termination}) while ${net.fault} was on` };
    }
    if (calls.length === 0 && index.appForwardsIds(e.pod) === false && input.scenario.services.find((s) => s.name === service)?.calls.length) {
      return { cause: "unattributed", edge, fault: null, lastTry: null, hops: here, pod: null, detail: `${e.pod} answered ${e.status}; its app's calls carry no x-request-id, so they cannot be followed` };
    }
    return { cause: "app-error", edge, fault: null, lastTry: null, hops: here, pod: e.pod, detail: `${e.pod}'s app answered ${e.status} by itself` };
  };

  /** A failed call from a pod's sidecar: the sidecar's decision, or what the callee did. */
  const explainOutbound = (o: AccessLogEntry, hops: string[], depth: number): Explanation => {
    const edge = { from: podService(o.pod), to: o.route };
    const at = rel(o.ts);
    const base = { edge, hops, fault: null, lastTry: null, pod: null };
    const tries = o.requestId ? index.triesOf(o.pod, o.requestId) : [];
    const last = tries.filter((t) => t.outcome !== "not-sent").at(-1);
    /** The replica the failed call ended at: its last try's, else the one the access log names. */
    const callee = last ? `${o.route}-${last.replica}` : (o.upstream ?? null);
    const lastTry = (): { text: string | null; fault: string | null; pod: string | null } => {
      if (!last) return { text: null, fault: null, pod: callee };
      if (last.fault !== null && last.outcome === "injected-fault") return { text: `injected-fault:${last.fault}`, fault: last.fault, pod: callee };
      if (last.outcome === "connect-failure" || last.outcome === "reset" || last.outcome === "per-try-timeout") {
        const net = networkCause(o.pod, o.route, `${o.route}-${last.replica}`, rel(last.ts));
        if (net) return { text: `${net.cause}:${net.fault}`, fault: net.fault, pod: callee };
      }
      if (last.outcome === "upstream-error") {
        const inbound = index.inboundFor(`${o.route}-${last.replica}`, o.requestId, last.ts);
        if (inbound && depth < 16) {
          const deeper = explainInbound(inbound, hops, depth + 1);
          return { text: deeper.fault ? `${deeper.cause}:${deeper.fault}` : `${deeper.cause}@${deeper.edge?.to ?? o.route}`, fault: deeper.fault, pod: deeper.pod };
        }
      }
      return { text: last.outcome, fault: last.fault, pod: callee };
    };
    switch (o.cause) {
      case "overflow":
        return { ...base, cause: "breaker-overflow", detail: `${o.pod}'s breaker for ${o.route} refused it (maxPending reached)` };
      case "no-healthy-replica":
        return { ...base, cause: "no-healthy-replica", detail: `every ${o.route} replica was out of ${o.pod}'s rotation` };
      case "no-route":
        return { ...base, cause: "no-route", detail: `${o.pod} has no route to ${o.route}` };
      case "overall-timeout":
      case "per-try-timeout": {
        const t = lastTry();
        // With one try and no per-try timeout, the try was cut by the request's own timeout.
        const retries = input.scenario.policies[o.route]?.retries;
        const cause: AttributionCause = o.cause === "per-try-timeout" && (!retries || retries.perTryTimeoutMs === null) ? "overall-timeout" : o.cause;
        return { ...base, cause, fault: t.fault ?? faultOnPath(o), lastTry: t.text, pod: t.pod, detail: `${o.pod}'s ${cause === "overall-timeout" ? "timeout" : "per-try timeout"} for ${o.route} ended it after ${o.durationMs} ms` };
      }
      case "retries-exhausted":
      case "budget-exhausted": {
        const t = lastTry();
        const cause: AttributionCause = o.cause === "retries-exhausted" ? "retries-exhausted" : "retry-budget-exhausted";
        const what = o.cause === "retries-exhausted" ? `all ${o.retries + 1} tries failed` : `it failed with tries left, but the retry budget was spent`;
        return { ...base, cause, fault: t.fault, lastTry: t.text, pod: t.pod, detail: `${o.pod} → ${o.route}: ${what}${t.text ? `; the last try: ${t.text}` : ""}` };
      }
      case "connect-failure":
      case "reset": {
        const net = networkCause(o.pod, o.route, o.upstream ?? callee, at);
        if (net) return { ...base, cause: net.cause, fault: net.fault, pod: o.upstream ?? callee, detail: `${o.pod} → ${o.route}: ${o.cause} while ${net.fault} was on` };
        const t = lastTry();
        return { ...base, cause: o.cause, fault: t.fault, pod: t.pod, detail: `${o.pod} → ${o.route}: ${o.cause}` };
      }
      case "injected-fault":
        return { ...base, cause: "injected-fault", fault: o.fault, pod: o.upstream ?? callee, detail: `${o.route} answered ${o.status} from fault ${o.fault}` };
      case "caller-abort":
        return { ...base, cause: "caller-abort", detail: `${o.pod}'s app gave up on ${o.route}` };
      case "rate-limited": {
        const inbound = o.upstream && o.requestId ? index.inboundFor(o.upstream, o.requestId, last?.ts ?? o.ts) : undefined;
        const who = inbound?.rateLimited ? `${inbound.pod}'s local rate limit` : o.route;
        const tries = o.retries > 0 ? ` (after ${o.retries} ${o.retries === 1 ? "retry" : "retries"})` : "";
        return { ...base, cause: "rate-limited", pod: o.upstream ?? callee, detail: `${who} answered 429${tries}` };
      }
      default: {
        // upstream-error (or an older log without a cause): the callee answered the failure; follow it.
        const inbound = o.upstream && o.requestId ? index.inboundFor(o.upstream, o.requestId, last?.ts ?? o.ts) : undefined;
        if (inbound && depth < 16) return explainInbound(inbound, hops, depth + 1);
        const pod = o.upstream ?? callee;
        if (o.fault) return { ...base, cause: "injected-fault", fault: o.fault, pod, detail: `${o.route} answered ${o.status} from fault ${o.fault}` };
        const net = networkCause(o.pod, o.route, o.upstream, at);
        if (net) return { ...base, cause: net.cause, fault: net.fault, pod, detail: `${o.pod} → ${o.route}: ${o.status} while ${net.fault} was on` };
        return { ...base, cause: "app-error", edge, pod, detail: `${o.route} answered ${o.status} (its inbound log line was not found)` };
      }
    }
  };

  /** Delay faults answer nothing themselves; they show on the path of a request that timed out. */
  const faultOnPath = (o: AccessLogEntry): string | null => {
    if (!o.traceId) return null;
    for (const e of index.byTrace(o.traceId)) {
      if (e.ts >= o.ts && e.faults?.length) return e.faults.at(-1)!;
    }
    return null;
  };

  const explain = (f: FailedRequest): Explanation => {
    const clientEdge = { from: "client", to: ingress };
    const atEpoch = input.loadStartEpochMs + f.startMs;
    const entry = f.id === null ? undefined : index.ingressEntry(f.id, atEpoch);
    if (entry === undefined) {
      if (f.status === "timeout") return { cause: "client-timeout", edge: clientEdge, fault: null, lastTry: null, hops: [], pod: null, detail: `no answer within the load's timeout; no sidecar logged the request` };
      if (f.status === "error") return { cause: "client-connection-error", edge: clientEdge, fault: null, lastTry: null, hops: [], pod: null, detail: "the connection failed; no sidecar logged the request" };
      return { cause: "unattributed", edge: clientEdge, fault: null, lastTry: null, hops: [], pod: null, detail: `answered ${f.status}, but no sidecar logged request id ${f.id ?? "(none)"}` };
    }
    traced++;
    if (!isFailure(entry.status) && entry.status < 400) {
      const cause: AttributionCause = f.status === "timeout" ? "client-timeout" : "client-connection-error";
      return { cause, edge: clientEdge, fault: null, lastTry: null, hops: [entry.pod], pod: null, detail: `${entry.pod} answered ${entry.status} after ${entry.durationMs} ms, but the client saw ${f.status}` };
    }
    return explainInbound(entry, [], 0);
  };

  const requests = input.failed.requests;
  const batchSize = Math.max(1, input.traceBatch ?? TRACE_BATCH);
  for (let at = 0; at < requests.length; at += batchSize) {
    const batch = requests.slice(at, at + batchSize);
    index = new TraceIndex(input.entries, input.events, new Set(batch.flatMap((f) => (f.id === null ? [] : [f.id]))));
    for (const f of batch) explainOne(f);
  }

  function explainOne(f: FailedRequest): void {
    const { pod, ...x } = explain(f);
    input.onExplained?.(f, { cause: x.cause, fault: x.fault, pod });
    byCause[x.cause] = (byCause[x.cause] ?? 0) + 1;
    if (x.fault) byFault[x.fault] = (byFault[x.fault] ?? 0) + 1;
    if (x.lastTry) byLastTry[x.lastTry] = (byLastTry[x.lastTry] ?? 0) + 1;
    const edge = x.edge ?? { from: "client", to: ingress };
    const key = `${edge.from}>${edge.to}`;
    const e = byEdge.get(key) ?? { ...edge, failed: 0, byCause: {} };
    e.failed++;
    e.byCause[x.cause] = (e.byCause[x.cause] ?? 0) + 1;
    byEdge.set(key, e);
    if ((shown[x.cause] ?? 0) < examplesPerCause) {
      shown[x.cause] = (shown[x.cause] ?? 0) + 1;
      examples.push({ requestId: f.id, at: Math.round(f.startMs), clientStatus: String(f.status), ...x });
    }
  }

  const examined = input.failed.requests.length;
  if (input.failed.dropped > 0) {
    notes.push(`${input.failed.dropped} more failed requests were counted but their ids not kept (limit ${examined}); the counts above cover the first ${examined}`);
  }
  if (examined > 0 && !index.hasTraceIds) notes.push("no sidecar log line carries an x-request-id: the data plane does not log it, so nothing could be traced");
  return {
    failed: examined + input.failed.dropped,
    examined,
    notKept: input.failed.dropped,
    traced,
    byCause: sortCounts(byCause),
    byEdge: [...byEdge.values()].sort((a, b) => b.failed - a.failed),
    byFault: sortCounts(byFault),
    byLastTry: sortCounts(byLastTry),
    examples,
    notes,
  };
}

function sortCounts(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
}

/** Failed requests traced per pass over the log: what one pass holds is their entries and tries. */
export const TRACE_BATCH = 5000;

/**
 * The log entries of some client requests (their x-request-ids, `traces`), indexed for the walk:
 * every entry carrying one of those ids, the callee side of their calls and their tries. Two
 * passes: the entries of the traces (which name the calls' request ids), then the rows of those calls.
 */
class TraceIndex {
  static readonly EMPTY = new TraceIndex([], [], new Set());
  readonly #byTrace = new Map<string, AccessLogEntry[]>();
  readonly #tries = new Map<string, AttemptEntry[]>();
  readonly #inbound = new Map<string, AccessLogEntry[]>();
  /** Pods whose app's outbound calls carry an x-request-id (true), or do not (false). */
  readonly #forwards = new Map<string, boolean>();
  hasTraceIds = false;

  constructor(entries: Iterable<AccessLogEntry>, events: Iterable<MeshEvent>, traces: ReadonlySet<string>) {
    const calls = new Set<string>();
    for (const e of entries) {
      if (e.healthCheck) continue;
      if (e.traceId) {
        this.hasTraceIds = true;
        if (traces.has(e.traceId)) {
          pushTo(this.#byTrace, e.traceId, e);
          if (e.direction === "outbound" && e.requestId) calls.add(e.requestId);
        }
      }
      if (e.direction === "outbound") this.#forwards.set(e.pod, (this.#forwards.get(e.pod) ?? false) || Boolean(e.traceId));
    }
    if (calls.size === 0) return;
    for (const e of entries) {
      if (!e.healthCheck && e.direction === "inbound" && e.requestId && calls.has(e.requestId)) pushTo(this.#inbound, `${e.pod}\u0000${e.requestId}`, e);
    }
    for (const e of events) {
      if (e.kind === "attempt" && e.requestId && calls.has(e.requestId)) pushTo(this.#tries, `${e.pod}\u0000${e.requestId}`, e);
    }
    for (const list of this.#tries.values()) list.sort((a, b) => a.ts - b.ts);
  }

  byTrace(traceId: string): readonly AccessLogEntry[] {
    return this.#byTrace.get(traceId) ?? [];
  }

  /** The ingress pod's entry for a client request: inbound, from outside the mesh, nearest in time. */
  ingressEntry(traceId: string, atEpochMs: number): AccessLogEntry | undefined {
    return nearest(this.byTrace(traceId).filter((e) => e.direction === "inbound" && e.from === null), atEpochMs);
  }

  /** The calls a pod's app made while serving one request: its outbound entries with the same trace id. */
  outboundOf(pod: string, traceId: string, sinceEpochMs: number): AccessLogEntry[] {
    return this.byTrace(traceId)
      .filter((e) => e.direction === "outbound" && e.pod === pod && e.ts >= sinceEpochMs - 5)
      .sort((a, b) => a.ts - b.ts);
  }

  triesOf(pod: string, requestId: string): AttemptEntry[] {
    return this.#tries.get(`${pod}\u0000${requestId}`) ?? [];
  }

  /** The callee pod's inbound entry for a caller's request id (one per try that reached it), nearest to `atEpochMs`. */
  inboundFor(calleePod: string, requestId: string | null | undefined, atEpochMs: number): AccessLogEntry | undefined {
    if (!requestId) return undefined;
    return nearest(this.#inbound.get(`${calleePod}\u0000${requestId}`) ?? [], atEpochMs);
  }

  /** undefined when the pod made no call at all. */
  appForwardsIds(pod: string): boolean | undefined {
    return this.#forwards.get(pod);
  }
}


function nearest(entries: readonly AccessLogEntry[], atEpochMs: number): AccessLogEntry | undefined {
  let best: AccessLogEntry | undefined;
  for (const e of entries) if (best === undefined || Math.abs(e.ts - atEpochMs) < Math.abs(best.ts - atEpochMs)) best = e;
  return best;
}
