// ejection: a failing replica leaves rotation in time. Each caller's sidecar keeps its own
// rotation (as each Envoy does), so the replica is out only once every caller that was sending
// it traffic has taken it out — by outlier ejection or a failed health check. Judged: the time
// from the fault's start to the last caller taking it out, against `within`. Also shown: the
// requests it still received from a caller after that caller took it out (a try already on its
// way is allowed GRACE_MS), and when it came back after the fault ended.
import { faultSpan } from "../../faults/span.js";
import { isAttempt } from "../../observe/attempts.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { findFault, ms, paramsOf, podIndex, podService, type PropertyContext, type PropertyOutcome } from "./context.js";
import { pushTo } from "../../util/map-of-lists.js";

/** A try sent just before the caller took the replica out may still arrive after it. */
export const GRACE_MS = 100;

interface CallerView {
  caller: string;
  replica: string;
  /** Tries this caller sent the replica while the fault was on. */
  triesDuringFault: number;
  leftAt: number | null;
  leftBy: "ejection" | "health-check" | null;
  leaveMs: number | null;
  requestsAfterLeaving: number;
  backAt: number | null;
  backAfterFaultEndMs: number | null;
  ejections: number;
}

export function ejection(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const target = params.target!;
  const within = params.withinMs ?? null;
  const fault =
    params.fault !== undefined
      ? findFault(ctx, params.fault)
      : (() => {
          const f = ctx.scenario.faults.find((x) => x.target === target.service && (target.replica === null || x.replicas.includes(target.replica)));
          return f ? findFault(ctx, f.name) : null;
        })();
  const base = { unit: "ms", threshold: within };
  if (!fault) {
    return { ...base, status: "error", observed: null, evidence: {}, reason: `no fault acts on ${target.service}${target.replica === null ? "" : `[${target.replica}]`}: name one with "fault"`, dependsOn: [] };
  }
  const dependsOn = [fault.record.name];
  const span = faultSpan(fault.record);
  const replicas = target.replica === null ? fault.resolved.replicas : [target.replica];
  const callers = ctx.scenario.services.filter((s) => s.calls.includes(target.service)).flatMap((s) => Array.from({ length: s.replicas }, (_, i) => `${s.name}-${i}`));
  const rel = (epochMs: number) => epochMs - ctx.loadStartEpochMs;

  // One pass over the log: tries from each caller to each replica during the fault, and when
  // each request from a caller reached a replica.
  const replicaPods = new Set(replicas.map((i) => `${target.service}-${i}`));
  const callerPods = new Set(callers);
  const triesBy = new Map<string, number>();
  const inboundBy = new Map<string, number[]>();
  for (const e of ctx.events) {
    if (!isAttempt(e) || e.route !== target.service || !callerPods.has(e.pod) || rel(e.ts) < span.start || rel(e.ts) >= span.end) continue;
    const key = `${e.pod}|${e.replica}`;
    triesBy.set(key, (triesBy.get(key) ?? 0) + 1);
  }
  for (const e of ctx.entries) {
    if (e.direction !== "inbound" || e.healthCheck || !replicaPods.has(e.pod) || e.from === null || e.fromReplica == null) continue;
    if (!callerPods.has(`${e.from}-${e.fromReplica}`)) continue;
    pushTo(inboundBy, `${e.pod}|${e.from}-${e.fromReplica}`, rel(e.ts));
  }

  const views: CallerView[] = [];
  for (const index of replicas) {
    const replica = `${target.service}-${index}`;
    const stats = ctx.replicas.find((r) => r.service === target.service && r.index === index);
    for (const caller of callers) {
      const tries = triesBy.get(`${caller}|${index}`) ?? 0;
      // When each request from this caller reached the replica (ms from the start of load).
      const inbound = inboundBy.get(`${replica}|${caller}`) ?? [];
      const triesDuringFault = Math.max(tries, inbound.filter((t) => t >= span.start && t < span.end).length);
      if (triesDuringFault === 0) continue;
      // Out of rotation: ejected, or marked down by a health check, at or after the fault's start
      // (or still out from before it).
      const mine = (stats?.ejections ?? []).filter((e) => e.by === caller);
      const ejected = mine.find((e) => e.at >= span.start || e.until === null || e.until > span.start);
      const down = (stats?.healthChanges ?? []).find((h) => h.by === caller && !h.healthy && h.at >= span.start);
      const candidates = [
        ejected ? { at: Math.max(ejected.at, span.start), by: "ejection" as const, until: ejected.until } : null,
        down ? { at: down.at, by: "health-check" as const, until: (stats?.healthChanges ?? []).find((h) => h.by === caller && h.healthy && h.at > down.at)?.at ?? null } : null,
      ].filter((c): c is NonNullable<typeof c> => c !== null && c.at < span.end);
      const left = candidates.sort((a, b) => a.at - b.at)[0] ?? null;
      // Back in rotation after the fault ended: the first re-admission (or health up) after its end.
      const backs = [
        ...mine.filter((e) => e.until !== null && e.until >= span.end).map((e) => e.until!),
        ...(stats?.healthChanges ?? []).filter((h) => h.by === caller && h.healthy && h.at >= span.end).map((h) => h.at),
      ].sort((a, b) => a - b);
      const stillOut = mine.some((e) => e.until === null);
      const backAt = backs[0] ?? null;
      const outUntil = left === null ? null : (left.until ?? (stillOut ? Number.POSITIVE_INFINITY : backAt ?? Number.POSITIVE_INFINITY));
      const requestsAfterLeaving =
        left === null ? 0 : inbound.filter((t) => t > left.at + GRACE_MS && t < Math.min(outUntil ?? Number.POSITIVE_INFINITY, span.end)).length;
      views.push({
        caller,
        replica,
        triesDuringFault,
        leftAt: left?.at ?? null,
        leftBy: left?.by ?? null,
        leaveMs: left === null ? null : Math.max(0, left.at - span.start),
        requestsAfterLeaving,
        backAt: stillOut && backAt === null ? null : backAt,
        backAfterFaultEndMs: backAt === null ? null : backAt - span.end,
        ejections: mine.filter((e) => e.at >= span.start && e.at < span.end).length,
      });
    }
  }

  const evidence: Record<string, unknown> = {
    target: `${target.service}${target.replica === null ? "" : `[${target.replica}]`}`,
    fault: fault.record.name,
    faultSpan: { start: span.start, end: span.end, source: span.source },
    within,
    graceMs: GRACE_MS,
    callers: views,
    source: "replicas[].ejections and healthChanges (each caller's sidecar's policy events); tries: the callers' try logs; requests after leaving: the replica's inbound access log",
  };
  if (views.length === 0) {
    return { ...base, status: "inconclusive", observed: null, evidence, reason: `no caller sent ${evidence.target} a request while fault ${fault.record.name} was on (${span.start}–${span.end} ms)`, dependsOn };
  }
  const never = views.filter((v) => v.leaveMs === null);
  const leak = views.filter((v) => v.requestsAfterLeaving > 0);
  const observed = never.length > 0 ? null : Math.max(...views.map((v) => v.leaveMs!));
  if (never.length > 0) {
    evidence.summary = `${never.map((v) => `${v.caller} never took ${v.replica} out`).join("; ")} during fault ${fault.record.name} (${ms(span.end - span.start)})`;
    return { ...base, status: "failed", observed, evidence, reason: null, dependsOn };
  }
  evidence.summary =
    `out of every caller's rotation ${ms(observed!)} after the fault started` +
    (leak.length ? `; it still received ${leak.reduce((n, v) => n + v.requestsAfterLeaving, 0)} requests after leaving` : "; no request after leaving") +
    `; back ${views.every((v) => v.backAfterFaultEndMs !== null) ? `${ms(Math.max(...views.map((v) => v.backAfterFaultEndMs!)))} after the fault ended` : "— not before the load ended"}`;
  const inTime = within === null || observed! <= within;
  return { ...base, status: inTime && leak.length === 0 ? "passed" : "failed", observed, evidence, reason: null, dependsOn };
}
