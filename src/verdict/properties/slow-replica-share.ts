// slow_replica_share: a slowed replica keeps only a small share of its service's traffic — what a
// latency-aware balancer (`loadBalancer: peak-ewma`, or least-request) is for. Judged: the tries
// the slowed replicas received over all tries to their service, from every caller, while the
// fault is on (the callers' try logs; a data plane without them: the replicas' inbound logs),
// against `max`. Round-robin gives a slowed replica its full share (1/n) whatever its latency.
//
// The slowed replicas are `target`'s when it names one (`payments[0]`), or the fault's. The fault
// is `fault`, or the first delay fault on the target. A target replica with no fault on it is
// judged over the whole load (a replica slow by itself).
import { faultSpan } from "../../faults/span.js";
import { isAttempt } from "../../observe/attempts.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { findFault, ms, paramsOf, pct, podIndex, podService, round, spanEvidence, type PropertyContext, type PropertyOutcome } from "./context.js";

/** Tries needed to judge a share against `max`: one try moves it by at most a tenth of `max`. */
export function minimumTries(max: number): number {
  return max > 0 ? Math.max(20, Math.ceil(10 / max)) : 20;
}

interface CallerShare {
  caller: string;
  tries: number;
  toSlowed: number;
  share: number;
}

export function slowReplicaShare(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const target = params.target!;
  const max = params.max!;
  const base = { unit: "fraction", threshold: max };
  const named = target.replica === null ? target.service : `${target.service}[${target.replica}]`;
  const service = ctx.scenario.services.find((s) => s.name === target.service);
  if (!service) return { ...base, status: "error", observed: null, evidence: {}, reason: `no service ${target.service}`, dependsOn: [] };
  const onTarget = (f: { target: string; replicas: readonly number[] }) =>
    f.target === target.service && (target.replica === null || f.replicas.includes(target.replica));
  const fault =
    params.fault !== undefined
      ? findFault(ctx, params.fault)
      : (() => {
          const f = ctx.scenario.faults.find((x) => x.kind === "delay" && onTarget(x));
          return f ? findFault(ctx, f.name) : null;
        })();
  if (params.fault !== undefined && !fault) {
    return { ...base, status: "error", observed: null, evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults`, dependsOn: [] };
  }
  if (!fault && target.replica === null) {
    return { ...base, status: "error", observed: null, evidence: {}, reason: `no delay fault slows a replica of ${target.service}: name the slow replica ("${target.service}[0]") or a fault`, dependsOn: [] };
  }
  const slowed = target.replica !== null ? [target.replica] : fault!.resolved.replicas;
  const slowedPods = slowed.map((i) => `${target.service}-${i}`);
  if (slowed.length >= service.replicas) {
    return {
      ...base,
      status: "error",
      observed: null,
      evidence: { slowed },
      reason: `fault ${fault!.record.name} slows every replica of ${target.service}: there is no faster replica to prefer; target one ("${target.service}[0]") or slow fewer`,
      dependsOn: [],
    };
  }
  const span = fault ? faultSpan(fault.record) : { start: 0, end: ctx.loadDurationMs, source: "the whole load" };
  const dependsOn = fault ? [fault.record.name] : ("all" as const);
  const within = (epochMs: number) => {
    const t = epochMs - ctx.loadStartEpochMs;
    return t >= span.start && t < span.end;
  };

  // Tries by caller pod and replica: the callers' try logs, or else the replicas' inbound logs.
  const counts = new Map<string, number[]>();
  const count = (caller: string, replica: number) => {
    const row = counts.get(caller) ?? new Array<number>(service.replicas).fill(0);
    if (replica >= 0 && replica < service.replicas) row[replica]!++;
    counts.set(caller, row);
  };
  let source = "the callers' try logs (one entry per try, retries included)";
  for (const e of ctx.events) if (isAttempt(e) && e.route === target.service && within(e.ts)) count(e.pod, e.replica);
  if (counts.size === 0) {
    source = "the replicas' inbound access logs (health checks excluded)";
    for (const e of ctx.entries) {
      if (e.direction !== "inbound" || e.healthCheck || e.from === null || podService(e.pod) !== target.service || !within(e.ts)) continue;
      count(e.fromReplica == null ? e.from : `${e.from}-${e.fromReplica}`, podIndex(e.pod));
    }
  }
  const byReplica = new Array<number>(service.replicas).fill(0);
  for (const row of counts.values()) row.forEach((n, i) => (byReplica[i]! += n));
  const tries = byReplica.reduce((a, b) => a + b, 0);
  const toSlowed = slowed.reduce((a, i) => a + (byReplica[i] ?? 0), 0);
  const callers: CallerShare[] = [...counts.entries()]
    .map(([caller, row]) => {
      const n = row.reduce((a, b) => a + b, 0);
      const s = slowed.reduce((a, i) => a + (row[i] ?? 0), 0);
      return { caller, tries: n, toSlowed: s, share: n ? round(s / n) : 0 };
    })
    .sort((a, b) => a.caller.localeCompare(b.caller));
  const observed = tries ? toSlowed / tries : null;
  const needed = minimumTries(max);
  const evidence: Record<string, unknown> = {
    target: named,
    slowed: slowedPods,
    fault: fault?.record.name ?? null,
    span: spanEvidence(span),
    loadBalancer: ctx.scenario.policies[target.service]?.loadBalancer ?? null,
    tries,
    triesToSlowed: toSlowed,
    byReplica: Object.fromEntries(byReplica.map((n, i) => [`${target.service}-${i}`, n])),
    fairShare: round(slowed.length / service.replicas),
    max,
    minimumTries: needed,
    callers,
    source,
  };
  const during = fault ? `while fault ${fault.record.name} was on (${ms(span.end - span.start)})` : "over the whole load";
  if (tries < needed) {
    return { ...base, status: "inconclusive", observed, evidence, reason: `a share against max ${pct(max)} needs at least ${needed} tries to ${target.service}; it had ${tries} ${during}`, dependsOn, ...(fault ? { window: `fault:${fault.record.name}` } : {}) };
  }
  evidence.summary = `${slowedPods.join(", ")} received ${pct(observed!)} of the tries to ${target.service} ${during} (${toSlowed} of ${tries}; an even share is ${pct(slowed.length / service.replicas)})`;
  return { ...base, status: observed! <= max ? "passed" : "failed", observed, evidence, reason: null, dependsOn, ...(fault ? { window: `fault:${fault.record.name}` } : {}) };
}
