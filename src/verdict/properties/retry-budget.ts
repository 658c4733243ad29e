// retry_budget: the retries on an edge stayed within the policy's budget over every sliding
// window of the budget's own length. The budget is Linkerd's rate-based one (docs/policy.md):
// retries ≤ ratio × requests + minPerSecond × window, kept by each caller's sidecar for its own
// traffic — so it is judged per caller pod, window by window (100 ms steps), with retries counted
// when each retry was sent. HAProxy decides per request when it starts: a request admitted just
// before the budget ran out may still use all its retries, and the rates it keeps are sliding
// estimates — so a window may overshoot by a little. The tolerance says how much: 20% of the
// bound plus one request's worth of retries (attempts − 1).
import type { AttemptEntry } from "../../dataplane/types.js";
import { faultSpan } from "../../faults/span.js";
import { isAttempt } from "../../observe/attempts.js";
import { parseDuration } from "../../scenario/duration.js";
import { DEFAULTS } from "../../scenario/defaults.js";
import type { PropertyCheck, ResolvedRetryBudget } from "../../scenario/types.js";
import { findFault, paramsOf, podService, round, spanEvidence, type PropertyContext, type PropertyOutcome } from "./context.js";
import { Prefix } from "./sliding.js";
import { pushTo } from "../../util/map-of-lists.js";

const SLOT_MS = 100;
export const BUDGET_TOLERANCE_RATIO = 0.2;

export function budgetTolerance(bound: number, attempts: number): number {
  return BUDGET_TOLERANCE_RATIO * bound + Math.max(0, attempts - 1);
}

export function retryBudget(check: PropertyCheck, ctx: PropertyContext): PropertyOutcome {
  const params = paramsOf(check);
  const edge = params.edge!;
  const policy = ctx.scenario.policies[edge.to];
  const configured = policy?.retries?.budget ?? null;
  const budget: ResolvedRetryBudget = configured ?? {
    ratio: DEFAULTS.retryBudget.ratio,
    minPerSecond: DEFAULTS.retryBudget.minPerSecond,
    windowMs: parseDuration(DEFAULTS.retryBudget.window),
  };
  const attempts = policy?.retries?.attempts ?? 1;
  let span = { start: 0, end: ctx.loadDurationMs, source: "the whole load" };
  let dependsOn: readonly string[] | "all" = "all";
  if (params.fault !== undefined) {
    const fault = findFault(ctx, params.fault);
    if (!fault) return { status: "error", observed: null, threshold: null, unit: "fraction", evidence: {}, reason: `fault "${params.fault}" is not one of the run's faults`, dependsOn: [] };
    const s = faultSpan(fault.record);
    span = { ...s, source: `fault ${params.fault} (${s.source})` };
    dependsOn = [params.fault];
  }

  // Per caller pod: requests when they started, retries when they were sent.
  const pods = new Map<string, { requests: number[]; retries: number[] }>();
  const slots = Math.max(1, Math.ceil(ctx.loadDurationMs / SLOT_MS));
  const pod = (name: string) => {
    let p = pods.get(name);
    if (!p) pods.set(name, (p = { requests: new Array<number>(slots).fill(0), retries: new Array<number>(slots).fill(0) }));
    return p;
  };
  const slotOf = (epochMs: number) => Math.floor((epochMs - ctx.loadStartEpochMs) / SLOT_MS);
  const tries = new Map<string, AttemptEntry[]>();
  for (const e of ctx.events) {
    if (!isAttempt(e) || e.route !== edge.to || podService(e.pod) !== edge.from || e.outcome === "not-sent" || !e.requestId) continue;
    pushTo(tries, `${e.pod}\u0000${e.requestId}`, e);
  }
  let fromTries = 0;
  let fromLog = 0;
  let totalRequests = 0;
  let totalRetries = 0;
  for (const e of ctx.entries) {
    if (e.direction !== "outbound" || e.route !== edge.to || podService(e.pod) !== edge.from) continue;
    const s = slotOf(e.ts);
    if (s < 0 || s >= slots) continue;
    const p = pod(e.pod);
    p.requests[s]!++;
    totalRequests++;
    const list = e.requestId ? tries.get(`${e.pod}\u0000${e.requestId}`) : undefined;
    if (list && list.length > 1) {
      // Every try after the first is a retry, counted when it was sent.
      const sorted = [...list].sort((a, b) => a.ts - b.ts);
      for (const t of sorted.slice(1)) {
        const ts = slotOf(t.ts);
        if (ts >= 0 && ts < slots) p.retries[ts]!++;
        totalRetries++;
        fromTries++;
      }
    } else if (e.retries > 0 && !list) {
      p.retries[s]! += e.retries;
      totalRetries += e.retries;
      fromLog += e.retries;
    }
  }

  const w = Math.max(1, Math.min(Math.round(budget.windowMs / SLOT_MS), Math.floor((span.end - span.start) / SLOT_MS)));
  const first = Math.max(0, Math.ceil(span.start / SLOT_MS));
  const end = Math.min(slots, Math.floor(span.end / SLOT_MS));
  let worst: { pod: string; start: number; end: number; requests: number; retries: number; carried: number; bound: number; tolerance: number; used: number } | null = null;
  let windows = 0;
  let over = 0;
  const perPod: Record<string, { requests: number; retries: number; worstUsed: number }> = {};
  for (const [name, p] of pods) {
    const req = new Prefix(p.requests);
    const ret = new Prefix(p.retries);
    const carry = carriedTokens(p.requests, p.retries, budget, w);
    let podWorst = 0;
    for (let a = first; a + w <= end; a++) {
      windows++;
      const requests = req.sum(a, a + w);
      const retries = ret.sum(a, a + w);
      const bound = budget.ratio * requests + budget.minPerSecond * ((w * SLOT_MS) / 1000) + carry[a]!;
      const tolerance = budgetTolerance(bound, attempts);
      const used = bound > 0 ? retries / bound : retries > 0 ? Number.POSITIVE_INFINITY : 0;
      if (retries > bound + tolerance) over++;
      podWorst = Math.max(podWorst, used);
      // The worst window is the one closest to (or furthest past) its allowance.
      const excess = (retries - bound - tolerance) / Math.max(1, bound + tolerance);
      const worstExcess = worst === null ? Number.NEGATIVE_INFINITY : (worst.retries - worst.bound - worst.tolerance) / Math.max(1, worst.bound + worst.tolerance);
      if (excess > worstExcess) {
        worst = { pod: name, start: a * SLOT_MS, end: (a + w) * SLOT_MS, requests, retries, carried: round(carry[a]!), bound: round(bound), tolerance: round(tolerance), used: round(used) };
      }
    }
    perPod[name] = { requests: req.sum(0, slots), retries: ret.sum(0, slots), worstUsed: round(podWorst) };
  }

  const stats = ctx.edges.find((e) => e.from === edge.from && e.to === edge.to);
  const evidence: Record<string, unknown> = {
    edge,
    budget: { ratio: budget.ratio, minPerSecond: budget.minPerSecond, windowMs: budget.windowMs },
    budgetSource: configured
      ? `the policy of ${edge.to}`
      : `${edge.to}'s policy has no retry budget: judged against meshquake's default budget (Linkerd's: ratio ${budget.ratio}, ${budget.minPerSecond}/s over ${budget.windowMs / 1000} s)`,
    attemptsAllowed: attempts,
    span: spanEvidence(span),
    slidingWindowMs: w * SLOT_MS,
    stepMs: SLOT_MS,
    windows,
    windowsOver: over,
    tolerance: `20% of each window's bound + ${Math.max(0, attempts - 1)} (one request's retries): HAProxy admits a request's retries when it starts`,
    carried: "each window's bound includes the tokens still unspent when it began (deposited less than one window earlier): Linkerd's budget lets a retry spend a token until it expires",
    requests: totalRequests,
    retries: totalRetries,
    retriesFrom: { tries: fromTries, accessLog: fromLog },
    perCallerPod: perPod,
    worstWindow: worst,
    budgetDenied: stats?.budgetDenied ?? null,
    source: `requests: ${edge.from}'s outbound access log to ${edge.to}; retries: the tries after each request's first in ${edge.from}'s try log, when they were sent`,
  };
  const base = { unit: "fraction", dependsOn, ...(params.fault ? { window: `fault:${params.fault}` } : {}) };
  if (totalRequests === 0 || windows === 0 || worst === null) {
    const why = totalRequests === 0 ? `no request crossed ${edge.from} → ${edge.to}` : `the judged span (${Math.round(span.end - span.start)} ms) is shorter than one 100 ms step`;
    return { ...base, status: "inconclusive", observed: null, threshold: null, evidence, reason: why };
  }
  const w0: NonNullable<typeof worst> = worst;
  const threshold = w0.bound > 0 ? (w0.bound + w0.tolerance) / w0.bound : 1;
  evidence.summary =
    `worst window ${w0.start}–${w0.end} ms at ${w0.pod}: ${w0.retries} retries for ${w0.requests} requests, ` +
    `budget ${w0.bound} (${w0.carried} of it carried in from before the window; +${w0.tolerance} tolerance); ${over} of ${windows} windows over`;
  return { ...base, status: over === 0 ? "passed" : "failed", observed: w0.used, threshold, evidence, reason: null };
}

/**
 * Linkerd's budget is a bucket of tokens that expire: each request deposits `ratio` of one, each
 * second deposits `minPerSecond`, each retry withdraws one, and a token lives one window. So a
 * window may spend, besides its own deposits, those of the window before it that were still
 * unspent when it began: after a quiet stretch, a burst of retries at a fault's onset is within
 * the budget. Per 100 ms slot: the tokens carried into it (deposited in the window before it, not
 * yet withdrawn), withdrawing oldest first.
 */
export function carriedTokens(requests: readonly number[], retries: readonly number[], budget: ResolvedRetryBudget, windowSlots: number): number[] {
  const carry = new Array<number>(requests.length + 1).fill(0);
  const alive: { slot: number; amount: number }[] = [];
  let head = 0;
  const perSlot = (budget.minPerSecond * SLOT_MS) / 1000;
  for (let s = 0; s <= requests.length; s++) {
    while (head < alive.length && alive[head]!.slot <= s - windowSlots) head++;
    let sum = 0;
    for (let i = head; i < alive.length; i++) sum += alive[i]!.amount;
    carry[s] = sum;
    if (s === requests.length) break;
    alive.push({ slot: s, amount: budget.ratio * requests[s]! + perSlot });
    let spend = retries[s]!;
    for (let i = head; i < alive.length && spend > 0; i++) {
      const take = Math.min(spend, alive[i]!.amount);
      alive[i]!.amount -= take;
      spend -= take;
    }
  }
  return carry;
}
