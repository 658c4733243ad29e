// When a fault was on. Every reader of a fault's times (the property checks, failure attribution,
// the observation of what it did, the report's fault bands) takes its span from here, so they
// agree on a fault that its dead-man switch ended before the harness's revert was confirmed.
import type { FaultRecord } from "../model/run-report.js";
import { factsOf } from "./kinds.js";

/** The times a span is read from, in one unit (ms from load start, or epoch ms). */
export type SpanTimes = Pick<FaultRecord, "name" | "kind" | "appliedAt" | "revertedAt" | "until" | "scheduledAt" | "scheduledEnd">;

/** A fault's effective span [start, end): from when it was certainly on to when it certainly ended. */
export interface FaultSpan {
  name: string;
  start: number;
  end: number;
  /** Where the span comes from, for the evidence. */
  source: string;
}

/**
 * On from its confirmed apply (appliedAt; for a fault armed ahead that is its start) until the
 * earliest of its revert and, for a kind that ends itself, its dead-man end (`until`: the proxy
 * or the pod's timer stops it there even when the harness reverts it later); the schedule when
 * it never ran.
 */
export function faultSpan(t: SpanTimes): FaultSpan {
  const start = t.appliedAt ?? t.scheduledAt;
  const deadMan = factsOf(t.kind)?.endsItself === false ? null : t.until;
  const ends = [t.revertedAt, deadMan].filter((x): x is number => x !== null && x !== undefined);
  const end = ends.length > 0 ? Math.max(start, Math.min(...ends)) : t.scheduledEnd;
  const source = t.appliedAt === null ? "scheduled (never applied)" : `applied ${t.appliedAt} ms, ${t.revertedAt === null ? "not reverted" : `reverted ${t.revertedAt} ms`}`;
  return { name: t.name, start, end, source };
}
