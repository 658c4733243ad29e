// Per-try observation: joins each outbound request (the caller sidecar's access log) with its
// tries (the sidecar's attempt lines) and summarises them per caller→callee edge: tries per
// replica, retries per request, failover, how tries and requests ended. Pure: no I/O.
import type { AccessLogEntry, AttemptEntry, MeshEvent } from "../dataplane/types.js";
import type { AttemptTrace, EdgeStats } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";
import { isEvent, tap, type MeshRow } from "./mesh-rows.js";
import { pushTo } from "../util/map-of-lists.js";

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
 * Outbound requests with their tries, joined on (caller pod, request id), as the rows stream by
 * in the order the sidecars logged them: a request and its tries are held only until the join is
 * done, so memory follows the requests in flight, not the run. One sidecar logs in the order
 * things end, so a request's tries come before its own line, except a try its timeout cut, logged
 * just after: a request waits JOIN_GRACE_MS of its pod's log time for such late tries. Tries are
 * ordered by start time; ties keep the order of the log (a retry never ends before the try it
 * replaces). Requests without an id (older logs) get no tries. Calls `each` in an order close to
 * the log's; `seq` is the request's place among the outbound requests.
 */
export function joinAttempts(rows: Iterable<MeshRow>, each: (joined: RequestAttempts, seq: number) => void): void {
  const early = new Map<string, AttemptEntry[]>();
  const waiting = new Map<string, { joined: RequestAttempts; seq: number; doneAt: number }>();
  /** Per pod, the latest end of anything its access log said: that sidecar's log time. */
  const clock = new Map<string, number>();
  let seq = 0;
  let sinceSweep = 0;
  const finish = (key: string, w: { joined: RequestAttempts; seq: number }) => {
    waiting.delete(key);
    const tries = w.joined.attempts.map((a, i) => ({ a, i })).sort((x, y) => x.a.ts - y.a.ts || x.i - y.i);
    each({ request: w.joined.request, attempts: tries.map((x) => x.a) }, w.seq);
  };
  const sweep = () => {
    for (const [key, w] of waiting) if ((clock.get(w.joined.request.pod) ?? 0) > w.doneAt) finish(key, w);
    for (const [key, list] of early) {
      const now = clock.get(list[0]!.pod) ?? 0;
      if (list.every((a) => a.ts + a.durationMs + ORPHAN_MS < now)) early.delete(key);
    }
  };
  for (const row of rows) {
    if (isEvent(row)) {
      if (!isAttempt(row) || row.requestId === null) continue;
      const key = `${row.pod}\u0000${row.requestId}`;
      const w = waiting.get(key);
      if (w) w.joined.attempts.push(row);
      else pushTo(early, key, row);
      continue;
    }
    const end = row.ts + row.durationMs;
    if (end > (clock.get(row.pod) ?? 0)) clock.set(row.pod, end);
    if (row.direction === "outbound") {
      const n = seq++;
      const joined: RequestAttempts = { request: row, attempts: [] };
      if (!row.requestId) each(joined, n);
      else {
        const key = `${row.pod}\u0000${row.requestId}`;
        joined.attempts = early.get(key) ?? [];
        early.delete(key);
        const previous = waiting.get(key);
        if (previous) finish(key, previous);
        waiting.set(key, { joined, seq: n, doneAt: end + JOIN_GRACE_MS });
      }
    }
    if (++sinceSweep >= SWEEP_EVERY) {
      sinceSweep = 0;
      sweep();
    }
  }
  for (const [key, w] of [...waiting].sort(([, a], [, b]) => a.seq - b.seq)) finish(key, w);
}

/** How long (log time) a request waits for tries logged after it. */
export const JOIN_GRACE_MS = 2000;
/** Tries whose request never shows within this long (log time) are dropped; longer than any request lasts. */
const ORPHAN_MS = 120_000;
const SWEEP_EVERY = 1000;


/**
 * Per caller→callee edge of the scenario: what the caller's sidecars did try by try. Requests
 * and tries are counted only for edges the scenario declares; `examples` keeps the first few
 * retried requests (times relative to `loadStartEpochMs`). `rows`: access-log entries and mesh
 * events, merged in the order they were logged.
 */
export function edgeAttemptStats(
  scenario: Pick<ResolvedScenario, "services">,
  rows: Iterable<MeshRow>,
  opts: { loadStartEpochMs: number; examples?: number },
): EdgeAttemptStats[] {
  const maxExamples = opts.examples ?? 10;
  const edges = new Map<string, EdgeAttemptStats & { picked: { seq: number; trace: AttemptTrace }[] }>();
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
        picked: [],
      });
    }
  }
  const counted = tap(rows, (r) => {
    if (!isEvent(r) || !isAttempt(r)) return;
    const edge = edges.get(`${podService(r.pod)}>${r.route}`);
    if (!edge) return;
    count(edge.attemptsByReplica, r.replica);
    count(edge.attemptOutcomes, r.outcome);
  });
  joinAttempts(counted, ({ request, attempts }, seq) => {
    const edge = edges.get(`${podService(request.pod)}>${request.route}`);
    if (!edge) return;
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
    if (retries > 0 && sent.length > 0) {
      // The first few in log order, whatever order the join finished them in.
      edge.picked.push({ seq, trace: trace(request, sent, opts.loadStartEpochMs) });
      if (edge.picked.length > maxExamples) edge.picked.sort((a, b) => a.seq - b.seq).pop();
    }
  });
  return [...edges.values()].map(({ picked, ...edge }) => ({ ...edge, examples: picked.sort((a, b) => a.seq - b.seq).map((p) => p.trace) }));
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
