import { describe, expect, it } from "vitest";
import type { AccessLogEntry, AttemptEntry, MeshEvent } from "../dataplane/types.js";
import type { EdgeStats } from "../model/run-report.js";
import { edgeAttemptStats, joinAttempts, withAttemptStats, type RequestAttempts } from "./attempts.js";
import type { MeshRow } from "./mesh-rows.js";

const T0 = 1_700_000_000_000;
const scenario = {
  services: [
    { name: "checkout", calls: ["payments"] },
    { name: "payments", calls: [] },
  ],
} as never;

const request = (id: string, over: Partial<AccessLogEntry> = {}): AccessLogEntry => ({
  ts: T0 + 100,
  pod: "checkout-0",
  direction: "outbound",
  route: "payments",
  from: "checkout",
  upstream: "payments-1",
  status: 200,
  durationMs: 2,
  retries: 0,
  termination: "----",
  fault: null,
  requestId: id,
  maxAttempts: 3,
  cause: "ok",
  budgetDenied: false,
  ...over,
});

const attempt = (id: string, replica: number, ts: number, over: Partial<AttemptEntry> = {}): AttemptEntry => ({
  kind: "attempt",
  ts: T0 + ts,
  pod: "checkout-0",
  route: "payments",
  replica,
  requestId: id,
  status: 200,
  durationMs: 1,
  outcome: "ok",
  fault: null,
  termination: "----",
  ...over,
});

const failed = { status: 500, outcome: "upstream-error" } as const;

const entries = [
  request("checkout-0.1"),
  request("checkout-0.3", { retries: 1 }),
  request("checkout-0.7", { retries: 2, status: 500, cause: "retries-exhausted", upstream: "payments-2" }),
  request("checkout-0.9", { budgetDenied: true, status: 500, cause: "budget-exhausted", upstream: "payments-0" }),
  // Another caller pod reuses the same id: ids are per pod.
  request("checkout-0.1", { pod: "checkout-1" }),
];
const events: MeshEvent[] = [
  attempt("checkout-0.1", 1, 100),
  // Logged in the order they ended; the same millisecond keeps log order.
  attempt("checkout-0.3", 0, 200, failed),
  attempt("checkout-0.3", 1, 200),
  attempt("checkout-0.7", 0, 300, failed),
  attempt("checkout-0.7", 2, 301, failed),
  attempt("checkout-0.7", 0, 302, failed),
  attempt("checkout-0.9", 0, 400, failed),
  attempt("checkout-0.1", 2, 100, { pod: "checkout-1" }),
  { kind: "readmission", ts: T0, pod: "checkout-0", route: "payments", replica: 0 },
];

describe("joinAttempts", () => {
  it("gives each outbound request its tries, in order, within its own pod", () => {
    const joined: RequestAttempts[] = [];
    joinAttempts([...events, ...entries], (j) => joined.push(j));
    expect(joined.map((j) => j.attempts.map((a) => a.replica))).toEqual([[1], [0, 1], [0, 2, 0], [0], [2]]);
  });
});

describe("edgeAttemptStats", () => {
  it("counts tries per replica, retries per request, failover and why requests and tries ended", () => {
    const [edge] = edgeAttemptStats(scenario, [...events, ...entries], { loadStartEpochMs: T0, examples: 1 });
    expect(edge).toEqual({
      from: "checkout",
      to: "payments",
      attemptsByReplica: { 0: 4, 1: 2, 2: 2 },
      retriesPerRequest: { 0: 3, 1: 1, 2: 1 },
      maxAttemptsPerRequest: 3,
      terminations: { ok: 3, "retries-exhausted": 1, "budget-exhausted": 1 },
      attemptOutcomes: { ok: 3, "upstream-error": 5 },
      failover: { otherReplica: 3, sameReplica: 0 },
      budgetDenied: 1,
      examples: [
        {
          at: 100,
          pod: "checkout-0",
          requestId: "checkout-0.3",
          status: 200,
          cause: "ok",
          attempts: [
            { replica: 0, status: 500, outcome: "upstream-error", durationMs: 1 },
            { replica: 1, status: 200, outcome: "ok", durationMs: 1 },
          ],
        },
      ],
    });
  });

  it("fills the optional EdgeStats fields and leaves other edges alone", () => {
    const stats = edgeAttemptStats(scenario, [...events, ...entries], { loadStartEpochMs: T0 });
    const base: EdgeStats = { from: "checkout", to: "payments", requests: 5, attempts: 9, retries: 4, statusCounts: {}, byReplica: {} };
    const other: EdgeStats = { ...base, from: "frontend", to: "checkout" };
    const [merged, untouched] = withAttemptStats([base, other], stats);
    expect(merged).toMatchObject({ requests: 5, attemptsByReplica: { 0: 4, 1: 2, 2: 2 }, budgetDenied: 1 });
    expect(untouched).toBe(other);
  });
});

describe("joinAttempts as the log streams by", () => {
  it("takes a try logged just after its request (one its timeout cut), and lets a request go once its pod's log has moved on", () => {
    const done: string[] = [];
    const stream: MeshRow[] = [
      request("checkout-0.1", { retries: 1 }),
      attempt("checkout-0.1", 0, 100, failed),
      attempt("checkout-0.1", 1, 101),
      // The same pod's log, five seconds on and a while later: checkout-0.1 is let go before the stream ends.
      ...Array.from({ length: 2000 }, (_, i) => request(`checkout-0.${i + 2}`, { ts: T0 + 5000 + i })),
    ];
    const seen: string[] = [];
    const rows = (function* () {
      for (const r of stream) {
        seen.push("requestId" in r ? String(r.requestId) : "?");
        yield r;
      }
    })();
    joinAttempts(rows, ({ request: r, attempts }, seq) => {
      if (seq === 0) done.push(`${r.requestId}:${attempts.map((a) => a.replica).join("")}`);
      if (seq === 0) done.push(seen.length < stream.length ? "before the end" : "at the end");
    });
    expect(done).toEqual(["checkout-0.1:01", "before the end"]);
  });
});
