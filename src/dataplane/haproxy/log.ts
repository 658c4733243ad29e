// The sidecar's access log: one JSON object per request on both frontends and one per try in
// each attempt listener, written by HAProxy's log-format to stdout ("log stdout format raw"),
// plus policy events written by images/haproxy/policy.lua through the same log. HAProxy's own
// lines (server up/down, alerts) share the stream and are not JSON; the parsers return null for them.
import type { AccessLogEntry, AttemptEntry, AttemptOutcome, MeshEvent, PolicyEvent, TerminationCause } from "../types.js";
import { PROXY } from "./names.js";
import { httpStatusOfGrpc } from "../../model/grpc-status.js";

/** Bumped whenever a field changes meaning; parse only what this version wrote. Fields may be added. */
export const LOG_SCHEMA = 1;

type LogValue = { str: string } | { num: string };

/**
 * The JSON line as a log-format string. Literals are validated names (no quote, backslash or
 * percent sign); request-derived text goes through the `json` converter; HAProxy writes "-"
 * for an empty sample.
 */
function logFormat(fields: Record<string, LogValue>): string {
  const body = Object.entries(fields).map(([k, v]) => ("str" in v ? `"${k}":"${v.str}"` : `"${k}":${v.num}`));
  return `{${body.join(",")}}`;
}

/** Set by the first http-request rule of every proxy that logs (render.ts): date(0,ms). */
export const START_VAR = "mq_t0";
/** A gRPC answer's grpc-status when it came in the headers (render.ts): logged as `gs`. */
export const GRPC_STATUS_VAR = "mq_gs";

const jsonVar = (name: string): LogValue => ({ str: `%[var(txn.${name}),json(utf8s)]` });

function commonFields(pod: string): Record<string, LogValue> {
  return {
    mq: { num: String(LOG_SCHEMA) },
    pod: { str: pod },
    // %ms is the zero-padded millisecond part of the accept date, %Ts its epoch seconds. On a
    // kept-alive connection that is when the stream started (after the previous request), so
    // t0, the epoch ms at which the first http-request rule ran, is the request's own start.
    ts: { str: "%Ts.%ms" },
    t0: { str: `%[var(txn.${START_VAR})]` },
  };
}

function resultFields(): Record<string, LogValue> {
  return {
    srv: { str: "%s" },
    status: { num: "%ST" },
    Ta: { num: "%Ta" },
    Tw: { num: "%Tw" },
    Tc: { num: "%Tc" },
    Tr: { num: "%Tr" },
    // "+N" when the last attempt was redispatched, so a string.
    retries: { str: "%rc" },
    term: { str: "%tsc" },
    bytes: { num: "%B" },
    fault: jsonVar("mq_fault"),
    gs: jsonVar(GRPC_STATUS_VAR),
  };
}

export function outboundLogFormat(pod: string, service: string, index: number): string {
  return logFormat({
    ...commonFields(pod),
    dir: { str: "outbound" },
    route: { str: "%b" },
    host: jsonVar("mq_host"),
    from: { str: service },
    from_replica: { str: String(index) },
    ...resultFields(),
    id: { str: "%ID" },
    xid: jsonVar("mq_xid"),
    // Set by the destination's routing backend (render.ts).
    max: jsonVar("mq_max"),
    cause: jsonVar("mq_cause"),
    local: jsonVar("mq_local"),
    budget: jsonVar("mq_budget"),
  });
}

export function inboundLogFormat(pod: string, service: string): string {
  return logFormat({
    ...commonFields(pod),
    dir: { str: "inbound" },
    route: { str: service },
    from: jsonVar("mq_from"),
    from_replica: jsonVar("mq_from_replica"),
    ...resultFields(),
    req: jsonVar("mq_req"),
    check: jsonVar("mq_check"),
    xid: jsonVar("mq_xid"),
    // "limited": the replica's local rate limit answered 429 (ratelimit.lua).
    rl: jsonVar("mq_rl"),
    // Mutual TLS (docs/mtls.md): "1" when the request came over TLS, the caller's certificate's
    // CN (its service) as verified against the run's CA, and "refused" for a request from the
    // mesh in plaintext to a service that takes mesh calls over mutual TLS only.
    tls: { str: "%[ssl_fc]" },
    peer: { str: "%[ssl_c_s_dn(CN),json(utf8s)]" },
    plain: jsonVar("mq_plain"),
  });
}

/** One try through the attempt listener for `<service>-<index>` in the caller's sidecar. */
export function attemptLogFormat(pod: string, service: string, index: number): string {
  return logFormat({
    ...commonFields(pod),
    dir: { str: "attempt" },
    route: { str: service },
    replica: { num: String(index) },
    id: jsonVar("mq_req"),
    srv: { str: "%s" },
    status: { num: "%ST" },
    Ta: { num: "%Ta" },
    Tr: { num: "%Tr" },
    term: { str: "%tsc" },
    local: jsonVar("mq_local"),
    fault: jsonVar("mq_fault"),
    gs: jsonVar(GRPC_STATUS_VAR),
    // A 429's Retry-After as the replica sent it; "1" when it goes back to be retried after it;
    // the ms this try waited for an earlier try's Retry-After (retry_after.lua).
    ra: jsonVar("mq_ra"),
    rar: jsonVar("mq_ra_retry"),
    raat: { str: "%[var(txn.mq_ra_at)]" },
    wait: jsonVar("mq_waited"),
  });
}

/** The logged grpc-status ("-" when none), as a code 0..16, or null. */
function grpcStatusOf(value: unknown): number | null {
  const text = optional(value);
  if (text === null || !/^\d{1,2}$/.test(text)) return null;
  const code = Number(text);
  return code <= 16 ? code : null;
}

function parseJson(line: string): Record<string, unknown> | null {
  const text = line.trim();
  if (!text.startsWith("{")) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== "object" || raw === null) return null;
  const r = raw as Record<string, unknown>;
  return r.mq === LOG_SCHEMA ? r : null;
}

/** One line of a sidecar's stdout → an access-log entry, or null for anything else. */
export function parseHaproxyLogLine(line: string): AccessLogEntry | null {
  const r = parseJson(line);
  if (!r) return null;
  const { dir, pod, route, srv, ts, retries, term } = r;
  if (dir !== "inbound" && dir !== "outbound") return null;
  if (typeof pod !== "string" || typeof route !== "string" || typeof srv !== "string") return null;
  if (typeof ts !== "string" || typeof retries !== "string" || typeof term !== "string") return null;
  if (typeof r.status !== "number" || typeof r.Ta !== "number") return null;
  const acceptedAt = startMs(r.t0, ts);
  if (acceptedAt === null) return null;

  const noRoute = dir === "outbound" && route === PROXY.noRoute;
  const grpcStatus = grpcStatusOf(r.gs);
  const faults = optional(r.fault)?.split(",") ?? [];
  const fromReplica = Number(optional(r.from_replica) ?? Number.NaN);
  const entry: AccessLogEntry = {
    ts: acceptedAt,
    pod,
    direction: dir,
    // A request with no route is still an edge: name the host the app asked for.
    route: noRoute ? (optional(r.host) ?? "") : route,
    from: optional(r.from),
    upstream: dir === "outbound" ? replicaId(route, srv) : null,
    status: grpcStatus !== null && grpcStatus !== 0 ? httpStatusOfGrpc(grpcStatus) : r.status,
    durationMs: r.Ta,
    retries: Math.max(0, Number.parseInt(retries.replace(/^\+/, ""), 10) || 0),
    termination: term,
    fault: faults.at(-1) ?? null,
    faults,
    fromReplica: Number.isInteger(fromReplica) && fromReplica >= 0 ? fromReplica : null,
  };
  // Fields added after the first version of this schema: absent in older lines.
  if (dir === "outbound" && "id" in r) {
    const max = Number(optional(r.max) ?? "1");
    entry.requestId = optional(r.id);
    entry.maxAttempts = Number.isInteger(max) && max >= 1 ? max : 1;
    entry.budgetDenied = optional(r.budget) === "denied";
    entry.cause = terminationCause({
      status: entry.status,
      termination: term,
      noServer: srv === "<NOSRV>",
      noRoute,
      overflow: optional(r.cause) === "overflow",
      local: optional(r.local),
      fault: entry.fault,
      retries: entry.retries,
      maxAttempts: entry.maxAttempts,
      budgetDenied: entry.budgetDenied,
    });
  }
  if (grpcStatus !== null) entry.grpcStatus = grpcStatus;
  if ("xid" in r) entry.traceId = optional(r.xid);
  if (dir === "inbound" && "check" in r) {
    entry.requestId = optional(r.req);
    entry.healthCheck = optional(r.check) !== null;
  }
  if (dir === "inbound" && "rl" in r) entry.rateLimited = optional(r.rl) === "limited";
  if (dir === "inbound" && "tls" in r) {
    entry.tls = optional(r.tls) === "1";
    entry.peer = entry.tls ? optional(r.peer) : null;
    entry.plaintextRefused = optional(r.plain) === "refused";
  }
  return entry;
}

/** Failures the attempt listener answers itself, and the status each stands for (render.ts LOCAL_FAILURES). */
const LOCAL_STATUS: Record<string, number> = { "connect-failure": 503, reset: 502, "per-try-timeout": 504, "overall-timeout": 504 };

export interface CauseInput {
  status: number;
  termination: string;
  /** No replica was chosen (HAProxy's <NOSRV>). */
  noServer: boolean;
  noRoute: boolean;
  overflow: boolean;
  /** The failure the caller's sidecar produced for the last try, if any. */
  local: string | null;
  fault: string | null;
  retries: number;
  maxAttempts: number;
  budgetDenied: boolean;
}

/** Why an outbound request ended as it did (see TerminationCause), from its log line alone. Pure. */
export function terminationCause(e: CauseInput): TerminationCause {
  if (e.overflow) return "overflow";
  if (e.noRoute) return "no-route";
  if (e.termination.startsWith("C")) return "caller-abort";
  // Waited in the breaker's queue until the timeout, or the routing backstop fired.
  if (/^s[QH]/.test(e.termination) && e.local === null) return "overall-timeout";
  if (e.noServer && e.termination.startsWith("SC")) return "no-healthy-replica";
  if (e.local === "overall-timeout") return "overall-timeout";
  // A 429 is a refusal, not a 5xx: the callee's rate limit (or its app) shed it; an injected one is the fault's.
  if (e.status === 429 && e.fault === null && e.local === null) return "rate-limited";
  const failed = e.status >= 500 || e.status < 100 || e.local !== null || (e.fault !== null && e.status >= 400);
  if (!failed) return "ok";
  if (e.maxAttempts > 1 && e.retries >= e.maxAttempts - 1) return "retries-exhausted";
  if (e.maxAttempts > 1 && e.budgetDenied) return "budget-exhausted";
  if (e.local === "per-try-timeout" || e.local === "connect-failure" || e.local === "reset") return e.local;
  if (/^[SP]H/.test(e.termination) || e.termination.startsWith("SD")) return "reset";
  if (e.fault !== null) return "injected-fault";
  return "upstream-error";
}

/** One line of a sidecar's stdout → a try or a policy event, or null for anything else. */
export function parseHaproxyEventLine(line: string): MeshEvent | null {
  const r = parseJson(line);
  if (!r) return null;
  if (r.dir === "attempt") return parseAttempt(r);
  if (typeof r.ev === "string") return parsePolicyEvent(r);
  return null;
}

function parseAttempt(r: Record<string, unknown>): AttemptEntry | null {
  const { pod, route, replica, ts, srv, term } = r;
  if (typeof pod !== "string" || typeof route !== "string" || typeof ts !== "string") return null;
  if (typeof srv !== "string" || typeof term !== "string") return null;
  if (typeof replica !== "number" || !Number.isInteger(replica) || replica < 0) return null;
  if (typeof r.status !== "number" || typeof r.Ta !== "number") return null;
  const startedAt = startMs(r.t0, ts);
  if (startedAt === null) return null;
  const local = optional(r.local);
  const fault = optional(r.fault)?.split(",").at(-1) ?? null;
  // A 429 handed back to be retried after its Retry-After travels as the retry status: restore it.
  const afterRateLimit = optional(r.rar) !== null;
  const grpcStatus = grpcStatusOf(r.gs);
  const status =
    local !== null ? (LOCAL_STATUS[local] ?? r.status) : afterRateLimit ? 429 : grpcStatus !== null && grpcStatus !== 0 ? httpStatusOfGrpc(grpcStatus) : r.status;
  const retryAfter = optional(r.ra);
  const waited = Number(optional(r.wait) ?? Number.NaN);
  const attempt: AttemptEntry = {
    kind: "attempt",
    ts: startedAt,
    pod,
    route,
    replica,
    requestId: optional(r.id),
    status,
    durationMs: r.Ta,
    outcome: attemptOutcome({ status, local, fault, termination: term, noServer: srv === "<NOSRV>" }),
    fault,
    termination: term,
  };
  if (status === 429) {
    attempt.retryAfterMs = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) * 1000 : null;
    const at = optional(r.raat);
    if (at !== null && /^\d{10,16}$/.test(at)) attempt.answeredAt = Number(at);
  }
  if (Number.isFinite(waited) && waited >= 0) attempt.waitedMs = waited;
  if (grpcStatus !== null) attempt.grpcStatus = grpcStatus;
  return attempt;
}

/** How one try ended, from its attempt-listener line. Pure. */
export function attemptOutcome(a: { status: number; local: string | null; fault: string | null; termination: string; noServer: boolean }): AttemptOutcome {
  if (a.local === "overall-timeout" && a.noServer) return "not-sent";
  if (a.local === "connect-failure" || a.local === "reset" || a.local === "per-try-timeout" || a.local === "overall-timeout") return a.local;
  if (a.termination.startsWith("C")) return "caller-abort";
  if (a.fault !== null && a.status >= 400) return "injected-fault";
  if (a.status >= 500 || a.status < 100) return "upstream-error";
  return "ok";
}

function parsePolicyEvent(r: Record<string, unknown>): PolicyEvent | null {
  const { ev, pod, route, replica, ts } = r;
  if (typeof pod !== "string" || typeof route !== "string" || typeof ts !== "string") return null;
  if (typeof replica !== "number" || !Number.isInteger(replica) || replica < 0) return null;
  const at = epochMs(ts);
  if (at === null) return null;
  const base = { ts: at, pod, route, replica };
  switch (ev) {
    case "ejection": {
      const until = typeof r.until === "string" ? epochMs(r.until) : null;
      if (until === null || typeof r.count !== "number") return null;
      return { kind: "ejection", ...base, untilTs: until, count: r.count };
    }
    case "readmission":
      return { kind: "readmission", ...base };
    case "ejection-skipped":
      return { kind: "ejection-skipped", ...base, reason: typeof r.reason === "string" ? r.reason : "" };
    case "health":
      if (r.state !== "up" && r.state !== "down") return null;
      return { kind: "health", ...base, healthy: r.state === "up", check: typeof r.check === "string" ? r.check : "" };
    default:
      return null;
  }
}

/** The request's own start (t0, epoch ms) when logged, else the stream's accept date. */
function startMs(t0: unknown, ts: string): number | null {
  const start = typeof t0 === "string" && /^\d{10,16}$/.test(t0) ? Number(t0) : null;
  return start ?? epochMs(ts);
}

/** "1795239295.048" → 1795239295048; tolerant of a missing zero-padding. */
function epochMs(ts: string): number | null {
  const m = /^(\d+)\.(\d{1,3})$/.exec(ts);
  if (!m) return null;
  return Number(m[1]) * 1000 + Number(m[2]);
}

/** HAProxy writes "-" for an empty or missing sample. */
function optional(v: unknown): string | null {
  return typeof v === "string" && v !== "" && v !== "-" ? v : null;
}

/** Backend server "r1" of backend "payments" → "payments-1"; "<NOSRV>" → null. */
function replicaId(route: string, srv: string): string | null {
  const m = /^r(\d+)$/.exec(srv);
  return m ? `${route}-${m[1]}` : null;
}
