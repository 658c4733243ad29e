// Per-try observation: joins each outbound request (the caller sidecar's access log) with its
// tries (the sidecar's attempt lines) and summarises them per caller→callee edge: tries per
// replica, retries per request, failover, how tries and requests ended. Pure: no I/O.
import type { AccessLogEntry, AttemptEntry, MeshEvent } from "../dataplane/types.js";
import type { AttemptTrace, EdgeStats } from "../report/types.js";
import type { ResolvedScenario } from "../scenario/types.js";

/** One outbound request and its tries, in the order they were sent. */
export interface RequestAttempts {
  request: AccessLogEntry;
  attempts: AttemptEntry[];
}

export type EdgeAttemptStats = Pick<EdgeStats, "from" | "to"> &
  Required<
    Pick<
      EdgeStats,
      "attemptsByReplica" | "retriesPerRequest" | "maxAttemptsPerRequest" | "terminations" | "attemptOutcomes" | "failover" | "budgetDenied" | "examples"
    >
  >;

const podService = (pod: string) => pod.slice(0, pod.lastIndexOf("-"));

function count(map: Record<string, number>, key: string | number, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

export function isAttempt(e: MeshEvent): e is AttemptEntry {
  return e.kind === "attempt";
}

/**
 * Outbound requests with their tries, joined on (caller pod, request id). Tries are ordered by
 * start time; ties keep the order of the log (one sidecar logs in the order things ended, and a
 * retry never ends before the try it replaces). Requests without an id (older logs) get no tries.
 */
export function joinAttempts(entries: readonly AccessLogEntry[], events: readonly MeshEvent[]): RequestAttempts[] {
  const byRequest = new Map<string, AttemptEntry[]>();
  for (const e of events) {
    if (!isAttempt(e) || e.requestId === null) continue;
    const key = `${e.pod}\u0000${e.requestId}`;
    const list = byRequest.get(key);
    if (list) list.push(e);
    else byRequest.set(key, [e]);
  }
  const out: RequestAttempts[] = [];
  for (const request of entries) {
    if (request.direction !== "outbound") continue;
    const list = request.requestId ? (byRequest.get(`${request.pod}\u0000${request.requestId}`) ?? []) : [];
    out.push({ request, attempts: list.map((a, i) => ({ a, i })).sort((x, y) => x.a.ts - y.a.ts || x.i - y.i).map((x) => x.a) });
  }
  return out;
}

/**
 * Per caller→callee edge of the scenario: what the caller's sidecars did try by try. Requests
 * and tries are counted only for edges the scenario declares; `examples` keeps the first few
 * retried requests (times relative to `loadStartEpochMs`).
 */
export function edgeAttemptStats(
  scenario: Pick<ResolvedScenario, "services">,
  entries: readonly AccessLogEntry[],
  events: readonly MeshEvent[],
  opts: { loadStartEpochMs: number; examples?: number },
): EdgeAttemptStats[] {
  const maxExamples = opts.examples ?? 10;
  const edges = new Map<string, EdgeAttemptStats>();
  for (const s of scenario.services) {
    for (const to of s.calls) {
      edges.set(`${s.name}>${to}`, {
        from: s.name,
        to,
        attemptsByReplica: {},
        retriesPerRequest: {},
        maxAttemptsPerRequest: 0,
        terminations: {},
        attemptOutcomes: {},
        failover: { otherReplica: 0, sameReplica: 0 },
        budgetDenied: 0,
        examples: [],
      });
    }
  }
  for (const e of events) {
    if (!isAttempt(e)) continue;
    const edge = edges.get(`${podService(e.pod)}>${e.route}`);
    if (!edge) continue;
    count(edge.attemptsByReplica, e.replica);
    count(edge.attemptOutcomes, e.outcome);
  }
  for (const { request, attempts } of joinAttempts(entries, events)) {
    const edge = edges.get(`${podService(request.pod)}>${request.route}`);
    if (!edge) continue;
    // The log's own retry count is authoritative; tries fill in where they were logged.
    const sent = attempts.filter((a) => a.outcome !== "not-sent");
    const retries = Math.max(request.retries, sent.length - 1);
    count(edge.retriesPerRequest, retries);
    edge.maxAttemptsPerRequest = Math.max(edge.maxAttemptsPerRequest, sent.length, request.upstream === null ? 0 : retries + 1);
    if (request.cause) count(edge.terminations, request.cause);
    if (request.budgetDenied) edge.budgetDenied++;
    for (let i = 1; i < sent.length; i++) {
      if (sent[i]!.replica === sent[i - 1]!.replica) edge.failover.sameReplica++;
      else edge.failover.otherReplica++;
    }
    if (retries > 0 && sent.length > 0 && edge.examples.length < maxExamples) edge.examples.push(trace(request, sent, opts.loadStartEpochMs));
  }
  return [...edges.values()];
}

function trace(request: AccessLogEntry, attempts: AttemptEntry[], loadStartEpochMs: number): AttemptTrace {
  return {
    at: request.ts - loadStartEpochMs,
    pod: request.pod,
    requestId: request.requestId ?? "",
    status: request.status,
    cause: request.cause ?? "",
    attempts: attempts.map((a) => ({ replica: a.replica, status: a.status, outcome: a.outcome, durationMs: a.durationMs })),
  };
}

/** EdgeStats with the per-try fields filled in from `edgeAttemptStats` (matched on from/to). */
export function withAttemptStats(edges: readonly EdgeStats[], stats: readonly EdgeAttemptStats[]): EdgeStats[] {
  const byEdge = new Map(stats.map((s) => [`${s.from}>${s.to}`, s]));
  return edges.map((e) => {
    const s = byEdge.get(`${e.from}>${e.to}`);
    if (!s) return e;
    const { from: _from, to: _to, ...fields } = s;
    return { ...e, ...fields };
  });
}
