// traffic_split: each version of a service got its configured share of the requests sent to it,
// per period of the timeline — the policy's split from the start of load, each shift's from its
// apply to its end (or the next shift), the policy's again after a shift with a duration ends.
//
// Counted: first tries only, from every caller's try log. The split is applied by the caller's
// sidecar when a request starts; a retry is redispatched to another replica by the balancer and
// would weigh a failing version's retries against it. The first `SETTLE_MS` after each change of
// split are left out: the sidecars take the new weights over a few milliseconds, and requests
// started just before the change are still being tried.
import type { AttemptEntry } from "../../dataplane/types.js";
import { isAttempt } from "../../observe/attempts.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { errorOutcome, ms, paramsOf, pct, round, type PropertyContext, type PropertyOutcome } from "./context.js";
import { policyShares, shiftsOf, splitPeriods } from "./shifts.js";
import { minimumTries } from "./slow-replica-share.js";

export const DEFAULT_SPLIT_TOLERANCE = 0.05;
/** Left out after each change of split, before the new one is judged. */
export const SETTLE_MS = 1000;

type PeriodStatus = "passed" | "failed" | "inconclusive";

interface PeriodTally {
  start: number;
  end: number;
  judgedFrom: number;
  split: string;
  requests: number;
  byVersion: Record<string, number>;
}

export function trafficSplit(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const name = params.target!.service;
  const tolerance = params.tolerance ?? DEFAULT_SPLIT_TOLERANCE;
  const service = ctx.scenario.services.find((s) => s.name === name);
  if (!service) return errorOutcome(`no service ${name}`);
  const versions = service.versions ?? [];
  if (versions.length === 0) return errorOutcome(`${name} has no versions (services.${name}.versions): there is no split between versions to judge`, { target: name });
  const versionOf = new Map(versions.flatMap((v) => v.replicas.map((i) => [i, v.name] as const)));

  const shifts = shiftsOf(ctx.scenario, name);
  const periods = splitPeriods(policyShares(service, ctx.scenario.policies[name]), shifts, ctx.faults, ctx.loadDurationMs);
  const tallies: PeriodTally[] = periods.map((p) => ({
    start: p.start,
    end: p.end,
    judgedFrom: p.start === 0 ? 0 : Math.min(p.end, p.start + SETTLE_MS),
    split: p.source,
    requests: 0,
    byVersion: Object.fromEntries(versions.map((v) => [v.name, 0])),
  }));
  let firstTries = 0;
  for (const a of firstTriesTo(ctx.events, name)) {
    const t = a.ts - ctx.loadStartEpochMs;
    const tally = tallies.find((p) => t >= p.judgedFrom && t < p.end);
    const version = versionOf.get(a.replica);
    if (!tally || version === undefined) continue;
    firstTries++;
    tally.requests++;
    tally.byVersion[version]!++;
  }

  const needed = minimumTries(tolerance);
  const judged = tallies.map((p, i) => {
    const shares = periods[i]!.shares;
    const expected = Object.fromEntries(versions.map((v) => [v.name, round(shares[v.name] ?? 0)]));
    const observed = Object.fromEntries(versions.map((v) => [v.name, p.requests ? round(p.byVersion[v.name]! / p.requests) : null]));
    const deviations = versions.map((v) => ({ version: v.name, deviation: p.requests ? Math.abs(p.byVersion[v.name]! / p.requests - (shares[v.name] ?? 0)) : 0 }));
    const worst = deviations.reduce((a, b) => (b.deviation > a.deviation ? b : a));
    const status: PeriodStatus = p.requests < needed ? "inconclusive" : worst.deviation <= tolerance ? "passed" : "failed";
    return {
      start: Math.round(p.start),
      end: Math.round(p.end),
      judgedFrom: Math.round(p.judgedFrom),
      split: p.split,
      expected,
      observed,
      requests: p.requests,
      byVersion: p.byVersion,
      deviation: round(worst.deviation),
      worstVersion: worst.version,
      status,
    };
  });
  type Judged = (typeof judged)[number];

  const evidence: Record<string, unknown> = {
    target: name,
    versions: Object.fromEntries(versions.map((v) => [v.name, v.replicas.map((i) => `${name}-${i}`)])),
    policySplit: ctx.scenario.policies[name]?.split ? `policies.${name}.split` : "none: every replica an equal share",
    tolerance,
    settleMs: SETTLE_MS,
    minimumRequests: needed,
    firstTries,
    periods: judged,
    ...(ctx.scenario.policies[name]?.routes?.length ? { routes: `${ctx.scenario.policies[name]!.routes!.length} route(s) send matching requests to one version before the split; they are counted too` } : {}),
    source: `the first try of each request to ${name} in every caller's try log (retries left out), by the replica it went to`,
  };
  const base = { unit: "fraction", threshold: tolerance, dependsOn: shifts.map((s) => s.name) };
  const resolved = judged.filter((p) => p.status !== "inconclusive");
  const worst = resolved.length ? resolved.reduce((a, b) => (b.deviation > a.deviation ? b : a)) : null;
  const observed = worst ? worst.deviation : null;
  const period = (p: Judged) => `${p.split} [${ms(p.start)}, ${ms(p.end)})`;
  const shares = (r: Record<string, number | null>) => Object.entries(r).map(([v, s]) => `${v} ${pct(s ?? 0)}`).join(", ");
  if (worst) {
    const v = worst.worstVersion;
    evidence.summary = `worst: ${v} got ${pct(worst.observed[v] ?? 0)} of ${worst.requests} first tries to ${name} in ${period(worst)}, expected ${pct(worst.expected[v]!)} (tolerance ${pct(tolerance)})`;
  }
  const failed = judged.filter((p) => p.status === "failed");
  if (failed.length > 0) {
    const reason = failed.map((p) => `${period(p)}: off by ${pct(p.deviation)} (${shares(p.observed)}; expected ${shares(p.expected)})`).join("; ");
    return { ...base, status: "failed", observed, evidence, reason };
  }
  const short = judged.filter((p) => p.status === "inconclusive");
  if (short.length > 0) {
    const reason = `a share within ${pct(tolerance)} needs at least ${needed} requests to ${name} in a period; ${short.map((p) => `${period(p)} had ${p.requests}`).join(", ")}`;
    return { ...base, status: "inconclusive", observed, evidence, reason };
  }
  return { ...base, status: "passed", observed, evidence, reason: null };
}

/**
 * The first try of each request to `service`, from each caller's try log. A sidecar logs a try as
 * it ends and a retry starts after the try it replaces ended, so a request's first try is the
 * first one logged. Requests are forgotten a while after they were seen (their tries all fall
 * within the request's timeout), so memory follows the requests in flight.
 */
export function* firstTriesTo(events: Iterable<unknown>, service: string, forgetAfterMs = 120_000): Generator<AttemptEntry> {
  const seen = new Map<string, number>();
  let latest = 0;
  for (const e of events) {
    if (!isAttempt(e as never)) continue;
    const a = e as AttemptEntry;
    if (a.route !== service || a.outcome === "not-sent") continue;
    if (a.requestId === null) {
      yield a;
      continue;
    }
    const key = `${a.pod}\u0000${a.requestId}`;
    if (seen.has(key)) continue;
    seen.set(key, a.ts);
    if (a.ts > latest + forgetAfterMs / 4) {
      latest = a.ts;
      for (const [k, ts] of seen) if (ts < latest - forgetAfterMs) seen.delete(k);
    }
    yield a;
  }
}
