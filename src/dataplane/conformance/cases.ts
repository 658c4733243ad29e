// The behavioural cases every data plane adapter must pass (issue "Mesh policy in the data
// plane"): each starts a small topology of fixture services, drives it at modest load, and
// checks what the policy must do from the sidecars' own observations (requests, tries, policy
// events) and the client's view. Numbers are returned so a run records what it measured.
import assert from "node:assert/strict";
import { edgeAttemptStats } from "../../observe/attempts.js";
import { peakInFlight } from "../../observe/concurrency.js";
import { ejections, healthChanges } from "../../observe/policy-events.js";
import type { AccessLogEntry, AttemptEntry } from "../types.js";
import { drive, sleep, type Shot } from "./drive.js";
import type { ConformanceCase, Measurements, RunningMesh } from "./harness.js";
import { pushTo } from "../../util/map-of-lists.js";
import { peakEwma } from "./peak-ewma-case.js";

/** How long the sidecars' last log lines take to reach the harness. */
const SETTLE_MS = 500;

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;
const ok = (s: Shot) => s.status === 200;

function outbound(mesh: RunningMesh, from: string, to: string, since: number): AccessLogEntry[] {
  return mesh.entries().filter((e) => e.direction === "outbound" && e.pod.startsWith(`${from}-`) && e.route === to && e.ts >= since);
}

function tries(mesh: RunningMesh, from: string, to: string, since = 0): AttemptEntry[] {
  return mesh
    .events()
    .filter((e): e is AttemptEntry => e.kind === "attempt" && e.pod.startsWith(`${from}-`) && e.route === to && e.ts >= since);
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) pushTo(out, key(x), x);
  return out;
}

function share(xs: readonly AttemptEntry[], replica: number): number {
  return xs.length ? xs.filter((a) => a.replica === replica).length / xs.length : 0;
}

const settle = () => sleep(SETTLE_MS);

export const retriesFailover: ConformanceCase = {
  name: "retries-failover",
  scenario: `
name: conformance-retries
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
load: { target: frontend }
policies:
  payments: { timeout: 2s, retries: { attempts: 3, perTryTimeout: 500ms, retryOn: [5xx] }, loadBalancer: random }
`,
  // payments-0 answers every request with a 500.
  podEnv: { "payments-0": { MQ_ERROR_RATE: "1" } },
  async run(mesh) {
    const since = Date.now();
    const shots = await drive(mesh.ingressUrl, { concurrency: 4, requests: 1000 });
    await settle();
    const success = shots.filter(ok).length / shots.length;
    const requests = outbound(mesh, "frontend", "payments", since);
    const attempts = tries(mesh, "frontend", "payments", since);
    const perRequest = groupBy(attempts, (a) => `${a.pod} ${a.requestId}`);
    // The callee's side: tries that reached any payments replica, by the caller's request id.
    const arrived = groupBy(
      mesh.entries().filter((e) => e.direction === "inbound" && e.route === "payments" && e.from === "frontend" && e.ts >= since && e.requestId),
      (e) => e.requestId!,
    );
    let retriesToOther = 0;
    let retriesToSame = 0;
    for (const list of perRequest.values()) {
      for (let i = 1; i < list.length; i++) {
        if (list[i]!.replica === list[i - 1]!.replica) retriesToSame++;
        else retriesToOther++;
      }
    }
    const maxTries = Math.max(...[...perRequest.values()].map((l) => l.length));
    const maxArrived = Math.max(...[...arrived.values()].map((l) => l.length));
    const retried = requests.filter((r) => r.retries > 0).length;
    assert.ok(success >= 0.999, `client success ${success} < 99.9%`);
    assert.equal(requests.length, shots.length, "one outbound request per client request");
    assert.ok(maxTries <= 3, `a request made ${maxTries} tries (attempts: 3)`);
    assert.ok(maxArrived <= 3, `payments saw ${maxArrived} tries of one request`);
    assert.ok(retried > 100, `only ${retried} requests were retried: payments-0 should fail about a third of first tries`);
    assert.equal(retriesToSame, 0, "every retry goes to another replica than the try before it");
    const after0 = [...perRequest.values()].flatMap((l) => l.filter((a, i) => i > 0 && l[i - 1]!.replica === 0));
    assert.ok(after0.every((a) => a.replica !== 0 && a.status === 200), "retries after payments-0 failed land on a healthy replica");
    const byReplica = [0, 1, 2].map((i) => attempts.filter((a) => a.replica === i).length);
    return {
      requests: shots.length,
      success: round(success, 4),
      retriedRequests: retried,
      maxTriesPerRequest: maxTries,
      maxTriesSeenByCallee: maxArrived,
      retriesToOtherReplica: retriesToOther,
      retriesToSameReplica: retriesToSame,
      triesByReplica: byReplica.join("/"),
    };
  },
};

const BUDGET = { ratio: 0.2, minPerSecond: 2 };

export const retryBudget: ConformanceCase = {
  name: "retry-budget",
  scenario: `
name: conformance-budget
services:
  frontend: { calls: [unbudgeted, budgeted] }
  unbudgeted: { replicas: 2, errorRate: 0.5 }
  budgeted: { replicas: 2, errorRate: 0.5 }
load: { target: frontend }
policies:
  unbudgeted: { retries: { attempts: 3, retryOn: [5xx] } }
  budgeted:
    retries: { attempts: 3, retryOn: [5xx], budget: { ratio: ${BUDGET.ratio}, minPerSecond: ${BUDGET.minPerSecond}, window: 2s } }
`,
  async run(mesh) {
    const since = Date.now();
    await drive(mesh.ingressUrl, { concurrency: 8, rate: 100, durationMs: 8000 });
    await settle();
    const measure = (to: string) => {
      const reqs = outbound(mesh, "frontend", to, since);
      const retries = reqs.reduce((n, r) => n + r.retries, 0);
      const seconds = reqs.length ? (Math.max(...reqs.map((r) => r.ts)) - Math.min(...reqs.map((r) => r.ts))) / 1000 : 0;
      const bound = BUDGET.ratio * reqs.length + BUDGET.minPerSecond * seconds;
      // Cross-check the log's retry count with the tries the sidecar logged one by one.
      const attempts = tries(mesh, "frontend", to, since).length;
      return { requests: reqs.length, retries, attempts, seconds, bound, denied: reqs.filter((r) => r.budgetDenied).length };
    };
    const free = measure("unbudgeted");
    const limited = measure("budgeted");
    assert.ok(limited.requests > 300 && free.requests > 300, "both destinations saw traffic");
    assert.equal(limited.attempts, limited.requests + limited.retries, "every try of budgeted was logged");
    // Per-request admission may overshoot by a few (render.ts says so): 10% plus two requests' retries.
    const tolerance = 0.1 * limited.bound + 4;
    assert.ok(limited.retries <= limited.bound + tolerance, `budgeted: ${limited.retries} retries > ${round(limited.bound, 1)} + ${round(tolerance, 1)}`);
    assert.ok(limited.denied > 0, "budgeted: some requests started with the budget spent");
    assert.ok(free.retries > 2 * free.bound, `unbudgeted: ${free.retries} retries is not far over ${round(free.bound, 1)}: the test shows nothing`);
    return {
      budgetedRequests: limited.requests,
      budgetedRetries: limited.retries,
      budgetedRetryRatio: round(limited.retries / limited.requests),
      budgetedBound: round(limited.bound, 1),
      budgetedDenied: limited.denied,
      unbudgetedRequests: free.requests,
      unbudgetedRetries: free.retries,
      unbudgetedRetryRatio: round(free.retries / free.requests),
      unbudgetedBound: round(free.bound, 1),
      seconds: round(limited.seconds, 1),
    };
  },
};

const OUTLIER = { consecutive5xx: 3, intervalMs: 250, baseEjectionMs: 2000 };

export const outlierWithRetries: ConformanceCase = {
  name: "outlier-ejection-with-retries",
  scenario: `
name: conformance-outlier
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
load: { target: frontend }
policies:
  payments:
    retries: { attempts: 2, perTryTimeout: 1s, retryOn: [5xx] }
    outlierDetection: { consecutive5xx: ${OUTLIER.consecutive5xx}, interval: ${OUTLIER.intervalMs}ms, baseEjectionTime: ${OUTLIER.baseEjectionMs}ms, maxEjectionPercent: 50 }
`,
  podEnv: { "payments-0": { MQ_ERROR_RATE: "1" } },
  async run(mesh) {
    const shots = await drive(mesh.ingressUrl, { concurrency: 2, rate: 60, durationMs: 7500 });
    await settle();
    const events = mesh.events();
    const ej = ejections(events, 0).filter((e) => e.replica === "payments-0" && e.by === "frontend-0");
    assert.ok(ej.length >= 1, "payments-0 was never ejected, though retries on 5xx hid its failures from the client");
    assert.ok(
      ejections(events, 0).every((e) => e.replica === "payments-0"),
      "only the failing replica is ejected",
    );
    const first = ej[0]!;
    const toZero = tries(mesh, "frontend", "payments").filter((a) => a.replica === 0);
    const failedBefore = toZero.filter((a) => a.ts <= first.at && a.outcome !== "ok").length;
    // The tries in flight when it tripped may add one per connection.
    assert.ok(
      failedBefore >= OUTLIER.consecutive5xx && failedBefore <= OUTLIER.consecutive5xx + 2,
      `ejected after ${failedBefore} failed tries (consecutive5xx: ${OUTLIER.consecutive5xx})`,
    );
    const durations: number[] = [];
    for (const e of ej) {
      const end = e.until ?? Number.POSITIVE_INFINITY;
      const during = toZero.filter((a) => a.ts > e.at && a.ts < end);
      assert.equal(during.length, 0, `payments-0 got ${during.length} tries while ejected (${e.at}..${e.until})`);
      if (e.until === null) continue;
      const expected = OUTLIER.baseEjectionMs * e.count;
      durations.push(e.until - e.at);
      assert.ok(
        e.until - e.at >= expected && e.until - e.at <= expected + OUTLIER.intervalMs + 300,
        `ejection ${e.count} lasted ${e.until - e.at} ms; expected ${expected} ms plus at most one interval`,
      );
      assert.ok(toZero.some((a) => a.ts >= e.until!), "payments-0 gets traffic again after its ejection");
    }
    assert.ok(durations.length >= 1, "payments-0 came back at least once during the run");
    const second = ej.find((e) => e.count === 2);
    const success = shots.filter(ok).length / shots.length;
    assert.ok(success >= 0.999, `client success ${success}: the retries should hide payments-0`);
    return {
      requests: shots.length,
      success: round(success, 4),
      failedTriesBeforeEjection: failedBefore,
      ejections: ej.length,
      ejectionMs: durations.join("/"),
      secondEjectionCount: second?.count ?? 0,
      triesToFailingReplica: toZero.length,
    };
  },
};

const BREAKER = { maxConnections: 2, maxPending: 2 };

export const breakerOverflow: ConformanceCase = {
  name: "breaker-overflow",
  scenario: `
name: conformance-breaker
services:
  frontend: { calls: [payments] }
  payments: { replicas: 1, latency: 200ms }
load: { target: frontend }
policies:
  payments: { timeout: 5s, circuitBreaker: { maxConnections: ${BREAKER.maxConnections}, maxPending: ${BREAKER.maxPending} } }
`,
  async run(mesh) {
    const atLimit = BREAKER.maxConnections + BREAKER.maxPending;
    const sinceA = Date.now();
    const calm = await drive(mesh.ingressUrl, { concurrency: atLimit, durationMs: 2000 });
    await settle();
    const sinceB = Date.now();
    const burst = await drive(mesh.ingressUrl, { concurrency: 16, rate: 200, durationMs: 2000 });
    await settle();
    const a = outbound(mesh, "frontend", "payments", sinceA).filter((e) => e.ts < sinceB);
    const b = outbound(mesh, "frontend", "payments", sinceB);
    const overflowA = a.filter((e) => e.cause === "overflow");
    const overflowB = b.filter((e) => e.cause === "overflow");
    assert.equal(overflowA.length, 0, `${overflowA.length} overflows at ${atLimit} concurrent requests (maxConnections + maxPending)`);
    assert.ok(calm.every(ok), "every request within the limits succeeds");
    assert.ok(overflowB.length > 0, "a burst over the limits overflows");
    assert.ok(overflowB.every((e) => e.status === 503 && e.upstream === null), "overflows are 503s that reached no replica");
    const slowest = Math.max(...overflowB.map((e) => e.durationMs));
    assert.ok(slowest <= 50, `an overflow took ${slowest} ms: it should be refused at once`);
    assert.ok(b.filter((e) => e.cause !== "overflow").every((e) => e.status === 200), "what was admitted succeeded");
    const served = mesh.entries().filter((e) => e.direction === "inbound" && e.route === "payments" && e.ts >= sinceA && !e.healthCheck);
    const inFlight = peakInFlight(served).peak;
    assert.ok(inFlight <= BREAKER.maxConnections, `payments had ${inFlight} requests in flight (maxConnections ${BREAKER.maxConnections})`);
    return {
      calmRequests: calm.length,
      calmOverflows: overflowA.length,
      burstRequests: burst.length,
      burstOverflows: overflowB.length,
      burstAdmitted: b.length - overflowB.length,
      slowestOverflowMs: slowest,
      maxInFlightAtPayments: inFlight,
    };
  },
};

export const leastRequest: ConformanceCase = {
  name: "least-request-avoids-slow-replica",
  scenario: `
name: conformance-balancing
services:
  frontend: { calls: [rr, lr] }
  rr: { replicas: 3 }
  lr: { replicas: 3 }
load: { target: frontend }
policies:
  rr: { loadBalancer: round-robin }
  lr: { loadBalancer: least-request }
`,
  // Replica 0 of each is slow: 150 ms against 1 ms.
  podEnv: {
    "rr-0": { MQ_LATENCY_MIN_MS: "150", MQ_LATENCY_MAX_MS: "150" },
    "lr-0": { MQ_LATENCY_MIN_MS: "150", MQ_LATENCY_MAX_MS: "150" },
  },
  async run(mesh) {
    const since = Date.now();
    const shots = await drive(mesh.ingressUrl, { concurrency: 8, durationMs: 4000 });
    await settle();
    const rr = tries(mesh, "frontend", "rr", since);
    const lr = tries(mesh, "frontend", "lr", since);
    const rrShare = share(rr, 0);
    const lrShare = share(lr, 0);
    assert.ok(shots.every(ok), "every request succeeds");
    assert.ok(Math.abs(rrShare - 1 / 3) < 0.05, `round-robin sent ${rrShare} to the slow replica, not a third`);
    assert.ok(lrShare < rrShare / 2, `least-request sent ${lrShare} to the slow replica, round-robin ${rrShare}`);
    const stats = edgeAttemptStats(mesh.scenario, [...mesh.events(), ...mesh.entries()], { loadStartEpochMs: since });
    return {
      requests: shots.length,
      roundRobinSlowShare: round(rrShare),
      leastRequestSlowShare: round(lrShare),
      roundRobinTries: Object.values(stats.find((s) => s.to === "rr")!.attemptsByReplica).join("/"),
      leastRequestTries: Object.values(stats.find((s) => s.to === "lr")!.attemptsByReplica).join("/"),
    };
  },
};

const HEALTH = { intervalMs: 300, unhealthyAfter: 2, healthyAfter: 1 };

export const healthChecks: ConformanceCase = {
  name: "health-checks-remove-and-restore",
  scenario: `
name: conformance-health
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
load: { target: frontend }
policies:
  payments:
    healthCheck: { interval: ${HEALTH.intervalMs}ms, unhealthyAfter: ${HEALTH.unhealthyAfter}, healthyAfter: ${HEALTH.healthyAfter} }
`,
  async run(mesh) {
    const since = Date.now();
    const load = drive(mesh.ingressUrl, { concurrency: 2, rate: 50, durationMs: 6000 });
    await sleep(1000);
    const stoppedAt = Date.now();
    await mesh.stopApp("payments-1");
    await sleep(2000);
    const startAt = Date.now();
    await mesh.startApp("payments-1");
    const startedAt = Date.now();
    const shots = await load;
    await settle();
    const changes = healthChanges(mesh.events(), 0).filter((h) => h.replica === "payments-1" && h.by === "frontend-0");
    const down = changes.find((h) => !h.healthy && h.at >= stoppedAt);
    assert.ok(down, "payments-1 was never marked down");
    const up = changes.find((h) => h.healthy && h.at > down.at);
    assert.ok(up, "payments-1 was never marked up again");
    const detectMs = down.at - stoppedAt;
    assert.ok(detectMs <= HEALTH.intervalMs * (HEALTH.unhealthyAfter + 1) + 1000, `marked down ${detectMs} ms after its app stopped`);
    assert.ok(up.at >= startAt, `marked up ${startAt - up.at} ms before its app was started again`);
    const restoreMs = up.at - startedAt;
    assert.ok(restoreMs <= HEALTH.intervalMs * (HEALTH.healthyAfter + 1) + 2000, `marked up ${restoreMs} ms after its app started`);
    const toOne = tries(mesh, "frontend", "payments", since).filter((a) => a.replica === 1);
    const whileDown = toOne.filter((a) => a.ts > down.at && a.ts < up.at);
    assert.equal(whileDown.length, 0, `payments-1 got ${whileDown.length} tries while marked down`);
    assert.ok(toOne.some((a) => a.ts > up.at), "payments-1 gets traffic again once it is up");
    // (Before the case started, a replica whose app was still booting may have been down for a moment.)
    const othersDown = healthChanges(mesh.events(), 0).filter((h) => h.replica !== "payments-1" && !h.healthy && h.at >= since);
    assert.deepEqual(othersDown, [], "the healthy replicas are never marked down");
    const failed = shots.filter((s) => !ok(s));
    return {
      requests: shots.length,
      failedRequests: failed.length,
      markedDownAfterMs: detectMs,
      markedUpAfterAppStartMs: restoreMs,
      triesWhileDown: whileDown.length,
    };
  },
};

const DEADLINE = { timeoutMs: 500, perTryMs: 300 };

export const timeoutAcrossRetries: ConformanceCase = {
  name: "timeout-across-retries",
  scenario: `
name: conformance-timeout
services:
  frontend: { calls: [payments] }
  payments: { replicas: 3 }
load: { target: frontend, duration: 60s }
faults:
  - { name: slow-payments, kind: delay, target: payments, delay: 2s, percent: 100, at: 0s, duration: 30s }
policies:
  payments: { timeout: ${DEADLINE.timeoutMs}ms, retries: { attempts: 3, perTryTimeout: ${DEADLINE.perTryMs}ms, retryOn: [5xx] } }
`,
  async run(mesh) {
    // Every payments replica answers after 2 s, switched on through the data plane's own faults.
    const fault = mesh.scenario.faults[0]!;
    const pods = fault.replicas.map((i) => `${fault.target}-${i}`);
    await Promise.all(pods.map((p) => mesh.dataPlane.applyFault(mesh.admin(p), { fault, untilEpochMs: Date.now() + 30_000 })));
    const since = Date.now();
    const shots = await drive(mesh.ingressUrl, { concurrency: 2, requests: 10 });
    await Promise.all(pods.map((p) => mesh.dataPlane.revertFault(mesh.admin(p), fault)));
    await settle();
    const requests = outbound(mesh, "frontend", "payments", since);
    const attempts = tries(mesh, "frontend", "payments", since);
    assert.equal(requests.length, shots.length);
    assert.ok(requests.every((r) => r.status === 504 && r.cause === "overall-timeout"), "every request ends at the overall timeout");
    // Three tries of 300 ms would take 900 ms: the timeout covers them all.
    const slowest = Math.max(...requests.map((r) => r.durationMs));
    const fastest = Math.min(...requests.map((r) => r.durationMs));
    assert.ok(fastest >= DEADLINE.timeoutMs - 5 && slowest <= DEADLINE.timeoutMs + 100, `requests took ${fastest}..${slowest} ms`);
    const perRequest = groupBy(attempts, (a) => a.requestId ?? "");
    const outcomes = [...perRequest.values()].map((l) => l.map((a) => a.outcome).join(">"));
    assert.ok(
      outcomes.every((o) => o === "per-try-timeout>overall-timeout"),
      `each request: a try cut at the per-try timeout, then one cut at the overall timeout (${[...new Set(outcomes)].join(", ")})`,
    );
    return {
      requests: shots.length,
      fastestMs: fastest,
      slowestMs: slowest,
      clientP50Ms: round([...shots].sort((a, b) => a.ms - b.ms)[Math.floor(shots.length / 2)]!.ms, 0),
      triesPerRequest: outcomes[0] ?? "",
    };
  },
};

/** Every behavioural case, in the order a suite runs them. */
export const POLICY_CASES: readonly ConformanceCase[] = [
  retriesFailover,
  timeoutAcrossRetries,
  retryBudget,
  outlierWithRetries,
  breakerOverflow,
  leastRequest,
  peakEwma,
  healthChecks,
];
