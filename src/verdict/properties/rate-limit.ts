// rate_limit: a rate-limited service shed its excess load as the policy says (docs/policy.md,
// "Local rate limits"): each replica served at most requestsPerSecond + burst requests in any
// one-second span (the most a token bucket of `burst` tokens refilled at requestsPerSecond can
// give), the rest of what it was sent was answered 429 by its limit, and every caller that
// retried a 429 waited at least the Retry-After it got.
//
// Served and refused requests come from the replicas' inbound access logs (health checks left
// out), by when each started (t0, the clock the limiter itself reads); the one-second spans slide
// request by request. Retries come from the callers' try logs: a try after a 429 starts
// `gap` ms after that 429 reached the caller's sidecar (logged as it arrived; in older logs the
// earlier try's start + its duration − the time it had itself waited, which is later by the time
// the try took to close), and must not start before its Retry-After.
import type { AccessLogEntry, AttemptEntry } from "../../dataplane/types.js";
import { isAttempt } from "../../observe/attempts.js";
import type { PropertyCheck } from "../../scenario/types.js";
import { pushTo } from "../../util/map-of-lists.js";
import { errorOutcome, paramsOf, podIndex, podService, round, type PropertyContext, type PropertyOutcome } from "./context.js";

const SECOND_MS = 1000;
/** Over the bound allowed in a span: one request, plus 1% of the bound (timestamps are whole ms). */
export function rateLimitTolerance(bound: number): number {
  return 1 + Math.floor(0.01 * bound);
}
/** A retry may start this much before its Retry-After ends: both ends are whole-ms log times. */
export const RETRY_AFTER_SLACK_MS = 5;

interface ReplicaTally {
  served: number[];
  limited: number;
  limitedNot429: number;
}

export function rateLimit(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const target = paramsOf(check).target!;
  const service = target.service;
  const limit = ctx.scenario.policies[service]?.rateLimit ?? null;
  if (!limit) return errorOutcome(`${service} has no rateLimit in its policy: there is no limit to judge`, { target });
  const bound = limit.requestsPerSecond + limit.burst;
  const tolerance = rateLimitTolerance(bound);

  const replicas = new Map<number, ReplicaTally>();
  const tally = (i: number) => {
    let t = replicas.get(i);
    if (!t) replicas.set(i, (t = { served: [], limited: 0, limitedNot429: 0 }));
    return t;
  };
  const inSpan = (epochMs: number) => epochMs >= ctx.loadStartEpochMs && epochMs - ctx.loadStartEpochMs < ctx.loadDurationMs;
  for (const e of ctx.entries) {
    if (!isInboundTo(e, service) || e.healthCheck || !inSpan(e.ts)) continue;
    const i = podIndex(e.pod);
    if (target.replica !== null && i !== target.replica) continue;
    const t = tally(i);
    if (e.rateLimited) {
      t.limited++;
      if (e.status !== 429) t.limitedNot429++;
    } else t.served.push(e.ts);
  }

  let worst: { replica: string; start: number; served: number } | null = null;
  let spansOver = 0;
  const perReplica: Record<string, unknown> = {};
  let served = 0;
  let limited = 0;
  let limitedNot429 = 0;
  for (const [i, t] of [...replicas].sort((a, b) => a[0] - b[0])) {
    const pod = `${service}-${i}`;
    const times = t.served.sort((a, b) => a - b);
    const busiest = busiestSecond(times);
    if (busiest.count > bound + tolerance) spansOver++;
    if (!worst || busiest.count > worst.served) worst = { replica: pod, start: busiest.start - ctx.loadStartEpochMs, served: busiest.count };
    served += times.length;
    limited += t.limited;
    limitedNot429 += t.limitedNot429;
    perReplica[pod] = {
      served: times.length,
      limited: t.limited,
      busiestSecond: { start: busiest.start - ctx.loadStartEpochMs, served: busiest.count },
      servedPerSecond: perSecond(times, ctx.loadStartEpochMs, ctx.loadDurationMs),
    };
  }

  const retries = retryAfterWaits(ctx.events, service);
  const evidence: Record<string, unknown> = {
    target: target.replica === null ? service : `${service}[${target.replica}]`,
    limit: { requestsPerSecond: limit.requestsPerSecond, burst: limit.burst, per: "replica" },
    bound: round(bound),
    tolerance: `${tolerance} (one request + 1% of the bound): log times are whole milliseconds`,
    served,
    limited,
    limitedNot429,
    spansOver,
    busiest: worst,
    perReplica,
    retryAfter: {
      retriesAfter429: retries.retries,
      without: retries.unusable,
      tooEarly: retries.tooEarly.length,
      minMarginMs: retries.minMarginMs,
      slackMs: RETRY_AFTER_SLACK_MS,
      examples: retries.tooEarly.slice(0, 3),
    },
    source:
      `served and refused: ${service}'s inbound access logs (health checks left out), any one-second span by request start; ` +
      `retries: the callers' try logs for ${service}, each try after a 429 against that 429's Retry-After`,
  };
  const base = { unit: "requests/s", dependsOn: "all" as const, threshold: bound + tolerance };
  if (served + limited === 0) {
    return { ...base, status: "inconclusive", observed: null, evidence, reason: `no request reached ${evidence.target} during the load` };
  }
  if (limited === 0) {
    evidence.summary = `the limit never refused a request: the busiest second at one replica served ${worst?.served ?? 0} of ${round(bound)} allowed`;
    return { ...base, status: "inconclusive", observed: worst?.served ?? 0, evidence, reason: `the load never reached ${service}'s rate limit, so shedding and back-off could not be shown` };
  }
  const problems: string[] = [];
  if (spansOver > 0) problems.push(`${spansOver} replica(s) served more than ${round(bound)} + ${tolerance} in one second`);
  if (limitedNot429 > 0) problems.push(`${limitedNot429} refusals were not answered 429`);
  if (retries.tooEarly.length > 0) problems.push(`${retries.tooEarly.length} retries started before their Retry-After`);
  evidence.summary =
    `busiest second: ${worst!.served} served at ${worst!.replica} (bound ${round(bound)} + ${tolerance}); ${limited} answered 429; ` +
    `${retries.retries} retries after a 429, ${retries.tooEarly.length} before their Retry-After` +
    (retries.minMarginMs === null ? "" : ` (closest: ${retries.minMarginMs} ms after it)`);
  return { ...base, status: problems.length ? "failed" : "passed", observed: worst!.served, evidence, reason: problems.length ? problems.join("; ") : null };
}

function isInboundTo(e: AccessLogEntry, service: string): boolean {
  return e.direction === "inbound" && e.route === service && podService(e.pod) === service;
}

/** The most requests that started within one second of each other, and when that second began. Sorted input. */
export function busiestSecond(times: readonly number[]): { start: number; count: number } {
  let best = { start: times[0] ?? 0, count: 0 };
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while (j < times.length && times[j]! < times[i]! + SECOND_MS) j++;
    if (j - i > best.count) best = { start: times[i]!, count: j - i };
  }
  return best;
}

function perSecond(times: readonly number[], startEpochMs: number, durationMs: number): number[] {
  const out = new Array<number>(Math.max(1, Math.ceil(durationMs / SECOND_MS))).fill(0);
  for (const t of times) {
    const s = Math.floor((t - startEpochMs) / SECOND_MS);
    if (s >= 0 && s < out.length) out[s]!++;
  }
  return out;
}

export interface RetryAfterWaits {
  /** Tries that followed a 429 with a Retry-After, of the same request. */
  retries: number;
  /** 429 tries followed by another try, whose Retry-After the sidecar could not read. */
  unusable: number;
  tooEarly: { pod: string; requestId: string; retryAfterMs: number; gapMs: number }[];
  /** The smallest (gap − Retry-After) seen, ms; null when nothing was retried after a 429. */
  minMarginMs: number | null;
}

/** Each caller's tries to `service`, request by request: how long after a 429 the next try started. */
export function retryAfterWaits(events: Iterable<unknown>, service: string): RetryAfterWaits {
  const byRequest = new Map<string, AttemptEntry[]>();
  for (const e of events) {
    if (!isAttempt(e as never)) continue;
    const a = e as AttemptEntry;
    if (a.route !== service || !a.requestId || a.outcome === "not-sent") continue;
    pushTo(byRequest, `${a.pod}\u0000${a.requestId}`, a);
  }
  const out: RetryAfterWaits = { retries: 0, unusable: 0, tooEarly: [], minMarginMs: null };
  for (const tries of byRequest.values()) {
    tries.sort((a, b) => a.ts - b.ts);
    for (let k = 1; k < tries.length; k++) {
      const prev = tries[k - 1]!;
      if (prev.status !== 429) continue;
      if (prev.retryAfterMs == null) {
        out.unusable++;
        continue;
      }
      const answeredAt = prev.answeredAt ?? prev.ts + prev.durationMs - (prev.waitedMs ?? 0);
      const gapMs = tries[k]!.ts - answeredAt;
      const margin = gapMs - prev.retryAfterMs;
      out.retries++;
      out.minMarginMs = out.minMarginMs === null ? margin : Math.min(out.minMarginMs, margin);
      if (margin + RETRY_AFTER_SLACK_MS < 0) out.tooEarly.push({ pod: prev.pod, requestId: prev.requestId!, retryAfterMs: prev.retryAfterMs, gapMs });
    }
  }
  return out;
}
