// The sidecar's access log: one JSON object per request on both frontends, written by HAProxy's
// log-format to stdout ("log stdout format raw"). HAProxy's own lines (server up/down, alerts)
// share the stream and are not JSON; parseHaproxyLogLine returns null for them.
import type { AccessLogEntry } from "../types.js";
import { PROXY } from "./names.js";

/** Bumped whenever a field changes meaning; parse only what this version wrote. */
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

const jsonVar = (name: string): LogValue => ({ str: `%[var(txn.${name}),json(utf8s)]` });

function commonFields(pod: string): Record<string, LogValue> {
  return {
    mq: { num: String(LOG_SCHEMA) },
    pod: { str: pod },
    // %ms is the zero-padded millisecond part of the accept date, %Ts its epoch seconds.
    ts: { str: "%Ts.%ms" },
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
  });
}

/** One line of a sidecar's stdout → an access-log entry, or null for anything else. */
export function parseHaproxyLogLine(line: string): AccessLogEntry | null {
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
  if (r.mq !== LOG_SCHEMA) return null;
  const { dir, pod, route, srv, ts, retries, term } = r;
  if (dir !== "inbound" && dir !== "outbound") return null;
  if (typeof pod !== "string" || typeof route !== "string" || typeof srv !== "string") return null;
  if (typeof ts !== "string" || typeof retries !== "string" || typeof term !== "string") return null;
  if (typeof r.status !== "number" || typeof r.Ta !== "number") return null;
  const acceptedAt = epochMs(ts);
  if (acceptedAt === null) return null;

  const noRoute = dir === "outbound" && route === PROXY.noRoute;
  const faults = optional(r.fault)?.split(",") ?? [];
  const fromReplica = Number(optional(r.from_replica) ?? Number.NaN);
  return {
    ts: acceptedAt,
    pod,
    direction: dir,
    // A request with no route is still an edge: name the host the app asked for.
    route: noRoute ? (optional(r.host) ?? "") : route,
    from: optional(r.from),
    upstream: dir === "outbound" ? replicaId(route, srv) : null,
    status: r.status,
    durationMs: r.Ta,
    retries: Math.max(0, Number.parseInt(retries.replace(/^\+/, ""), 10) || 0),
    termination: term,
    fault: faults.at(-1) ?? null,
    faults,
    fromReplica: Number.isInteger(fromReplica) && fromReplica >= 0 ? fromReplica : null,
  };
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
