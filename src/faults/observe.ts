// What a fault really did, read from the sidecars' access logs (pure). Each kind leaves a
// different trace, named by its injector's `observedBy`:
// - tagged:    the target's sidecar names the fault on each request it affected;
// - partition: requests from one side that still reached the other leaked through;
// - refused:   the target's sidecar could not reach its (dead) app;
// - stalled:   the target's (frozen) app answered only at the thaw, or its caller gave up;
// - installed: nothing per request; the injector's own check is the evidence.
// Requests count as eligible while it was certainly on: its span (span.ts) from the moment it was
// confirmed on to the earlier of its dead-man end and the moment its revert was sent. Activation is
// from the moment the apply was sent (or the fault's start, when it was set ahead of it and the
// proxy started it on its own clock) to the first affected request accepted after that.
import type { AccessLogEntry } from "../dataplane/types.js";
import type { ResolvedFault } from "../scenario/types.js";
import type { ObservedBy } from "./injector.js";
import { FAULT_KIND_FACTS } from "./kinds.js";
import { faultSpan } from "./span.js";
import type { FaultTiming } from "./scheduler.js";
import { faultPods, partitionSides } from "./targets.js";

export interface FaultObservation {
  observedBy: ObservedBy;
  /** Requests that could have been affected while the fault was certainly on, and those that were. */
  eligible: number;
  affected: number;
  /** affected / eligible, or null when no request was eligible or eligibility cannot be read. */
  observedPercent: number | null;
  /** Apply sent → first affected request, ms; null when none was seen. */
  activationMs: number | null;
  /** "log", or "proxy-counters" where the log cannot tell eligibility (a header match). */
  source: "log" | "proxy-counters" | "none";
  /** Why observedPercent is null, when it is. */
  note: string | null;
}

const empty = (observedBy: ObservedBy, note: string | null): FaultObservation => ({
  observedBy,
  eligible: 0,
  affected: 0,
  observedPercent: null,
  activationMs: null,
  source: "none",
  note,
});

export function observeFault(
  fault: ResolvedFault,
  timing: FaultTiming | undefined,
  entries: Iterable<AccessLogEntry>,
  replicasOf: (service: string) => number,
): FaultObservation {
  const observedBy = timing?.observedBy ?? FAULT_KIND_FACTS[fault.kind].observedBy;
  if (!timing || timing.applySentAt === null) return empty(observedBy, "never applied");
  if (timing.appliedAt === null) return empty(observedBy, "its apply did not succeed");
  // Activation counts from when it was meant to act: the apply, or its start if it was set ahead.
  const sent = Math.max(timing.applySentAt, timing.startEpochMs ?? Number.NEGATIVE_INFINITY);
  // Ended as soon as its revert was sent, not when that was confirmed: only then was it certainly on.
  const { start: on, end: off } = faultSpan({
    name: fault.name,
    kind: fault.kind,
    appliedAt: timing.appliedAt,
    revertedAt: timing.revertSentAt,
    until: timing.untilEpochMs,
    scheduledAt: timing.appliedAt,
    scheduledEnd: Number.POSITIVE_INFINITY,
  });
  const inWindow = (e: AccessLogEntry) => e.ts >= on && e.ts < off;
  const activation = (ts: number | null) => (ts === null ? null : Math.max(0, ts - sent));
  /** The share read from the access log: affected of eligible, or the note when nothing was eligible. */
  const fromLog = (eligible: number, affected: number, first: number | null, noneEligible: string): FaultObservation => ({
    observedBy,
    eligible,
    affected,
    observedPercent: eligible > 0 ? affected / eligible : null,
    activationMs: activation(first),
    source: "log",
    note: eligible > 0 ? null : noneEligible,
  });

  if (observedBy === "installed") return empty(observedBy, "not observable per request: landed when the injector saw it installed");

  // Only a partition is observed so (FAULT_KIND_FACTS); the kind narrows its attributes.
  if (observedBy === "partition" && fault.kind === "partition") {
    const { between, direction } = fault.attributes;
    const [nearPods, farPods] = partitionSides(fault, replicasOf).map((ids) => new Set(ids)) as [Set<string>, Set<string>];
    const crossings: Array<{ callers: Set<string>; caller: (typeof between)[0]; callees: Set<string>; callee: (typeof between)[0] }> = [
      { callers: nearPods, caller: between[0], callees: farPods, callee: between[1] },
    ];
    if (direction === "both") crossings.push({ callers: farPods, caller: between[1], callees: nearPods, callee: between[0] });
    let eligible = 0;
    let leaks = 0;
    let first: number | null = null;
    for (const e of entries) {
      for (const c of crossings) {
        if (e.direction === "outbound" && c.callers.has(e.pod) && e.route === c.callee.service) {
          if (inWindow(e)) eligible++;
          const hitWall = e.retries > 0 || e.status >= 500 || e.status <= 0;
          if (hitWall && e.ts >= sent && (first === null || e.ts < first)) first = e.ts;
        }
        const fromCaller = e.from === c.caller.service && (c.caller.replica === null || e.fromReplica === c.caller.replica);
        if (e.direction === "inbound" && c.callees.has(e.pod) && fromCaller && inWindow(e)) leaks++;
      }
    }
    return fromLog(eligible, Math.max(0, eligible - leaks), first, "no request was sent across the partition while it was on");
  }

  const pods = new Set(faultPods(fault));
  const isAffected = affectedBy(fault, observedBy, off);
  let eligible = 0;
  let affected = 0;
  let first: number | null = null;
  for (const e of entries) {
    if (e.direction !== "inbound" || !pods.has(e.pod)) continue;
    if (fault.from !== null && e.from !== fault.from) continue;
    // The replica's rate limit answered it before any fault could see it (it runs first).
    if (e.rateLimited && FAULT_KIND_FACTS[fault.kind].layer === "sidecar") continue;
    const hit = isAffected(e);
    if (hit && e.ts >= sent && (first === null || e.ts < first)) first = e.ts;
    if (!inWindow(e)) continue;
    eligible++;
    if (hit) affected++;
  }
  if (observedBy === "tagged" && fault.match !== null) {
    // The log does not carry the header, so only the proxy knows which requests were eligible.
    const c = timing.counters;
    if (c) {
      return {
        observedBy,
        eligible: c.seen,
        affected: c.hits,
        observedPercent: c.seen > 0 ? c.hits / c.seen : null,
        activationMs: activation(first),
        source: "proxy-counters",
        note: c.seen > 0 ? null : `no request carried ${fault.match.header}: ${fault.match.value} while it was on`,
      };
    }
    return {
      observedBy,
      eligible: affected,
      affected,
      observedPercent: null,
      activationMs: activation(first),
      source: "log",
      note: "the share is not measurable: the access log does not carry the matched header and the data plane reported no counters",
    };
  }
  return fromLog(eligible, affected, first, "no request reached its targets while it was on");
}

/** How one inbound request at a target pod shows that the fault acted on it. */
function affectedBy(fault: ResolvedFault, observedBy: ObservedBy, off: number): (e: AccessLogEntry) => boolean {
  switch (observedBy) {
    case "refused":
      // The sidecar found nothing listening on the app's port: 503 with a server-side termination.
      return (e) => e.status <= 0 || (e.status >= 500 && /^s/i.test(e.termination));
    case "stalled":
      // Answered only at (or after) the thaw, or the caller gave up first (termination C*/c*).
      return (e) => e.status <= 0 || /^c/i.test(e.termination) || e.ts + e.durationMs >= off - 2;
    default:
      return (e) => (e.faults ?? (e.fault ? [e.fault] : [])).includes(fault.name);
  }
}
