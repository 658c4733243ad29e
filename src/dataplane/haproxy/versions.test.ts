// Versions in the caller's sidecar: a split is server weights, a route pins a request to one
// version's replicas before the balance.
import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService } from "../../scenario/types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET } from "../../plan/types.js";
import { splitWeights } from "../split-weights.js";
import type { UpstreamRef } from "../types.js";
import { renderHaproxyConfig } from "./render.js";

const policy = (over: Partial<ResolvedPolicy> = {}): ResolvedPolicy => ({
  timeoutMs: 2000,
  retries: null,
  circuitBreaker: null,
  outlierDetection: null,
  loadBalancer: "round-robin",
  healthCheck: null,
  rateLimit: null,
  ...over,
});

const caller: ResolvedService = { name: "frontend", replicas: 1, calls: ["payments"], latency: { minMs: 0, maxMs: 0 }, errorRate: 0, port: 8080, health: "/healthz" };

/** payments: v1 on replicas 0 and 1, v2 on replica 2. */
const payments = (p: ResolvedPolicy): UpstreamRef => ({
  service: "payments",
  replicas: [0, 1, 2].map((index) => ({ index, host: `payments-${index}`, port: POD_PORTS.inbound, version: index < 2 ? "v1" : "v2" })),
  policy: p,
});

const routing = (p: ResolvedPolicy) => {
  const { text, warnings } = renderHaproxyConfig({
    service: caller,
    index: 0,
    upstreams: [payments(p)],
    ports: { ...POD_PORTS, app: 8080 },
    adminSocket: SIDECAR_ADMIN_SOCKET,
    seed: 1,
  });
  const start = text.indexOf("backend payments\n");
  const body = text.slice(start, text.indexOf("\n\n", start)).split("\n").map((l) => l.trim());
  return { body, warnings };
};

describe("splitWeights", () => {
  it("gives each replica an equal part of its version's share, the heaviest 256", () => {
    const replicas = [{ version: "v1" }, { version: "v1" }, { version: "v2" }];
    expect(splitWeights(replicas, { v1: 0.9, v2: 0.1 })).toEqual([256, 256, 57]);
    expect(splitWeights(replicas, { v1: 0.5, v2: 0.5 })).toEqual([128, 128, 256]);
    expect(splitWeights(replicas, { v1: 1, v2: 0 })).toEqual([256, 256, 0]);
    expect(splitWeights(replicas, { v1: 1 })).toEqual([256, 256, 0]);
    expect(splitWeights(replicas, null)).toEqual([1, 1, 1]);
    // 57 / (256 + 256 + 57) = 10.0%: rounding moves a share by at most 1/512 of the heaviest.
    const w = splitWeights(replicas, { v1: 0.9, v2: 0.1 });
    expect(w[2]! / (w[0]! + w[1]! + w[2]!)).toBeCloseTo(0.1, 2);
  });
});

describe("versions in the routing backend", () => {
  it("a split is each replica's weight; without one no weight is written", () => {
    expect(routing(policy({ split: { v1: 0.9, v2: 0.1 } })).body.filter((l) => l.startsWith("server "))).toEqual([
      "server r0 abns@mq_att_payments_0 weight 256",
      "server r1 abns@mq_att_payments_1 weight 256",
      "server r2 abns@mq_att_payments_2 weight 57",
    ]);
    expect(routing(policy()).body.filter((l) => l.includes("weight"))).toEqual([]);
  });

  it("routes: the first match names the version, one of its replicas is drawn for the request, before the balance", () => {
    const { body, warnings } = routing(
      policy({
        routes: [
          { match: { header: "x-canary", value: "1" }, to: "v2" },
          { match: { path: "/beta" }, to: "v1" },
        ],
        retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx"], budget: null },
      }),
    );
    expect(body.filter((l) => l.includes("mq_route"))).toEqual([
      "http-request set-var(txn.mq_route) str(v2) if { req.hdr(x-canary) -m str 1 } !{ var(txn.mq_route) -m found }",
      "http-request set-var(txn.mq_route) str(v1) if { path -m beg /beta } !{ var(txn.mq_route) -m found }",
      "http-request set-var(txn.mq_route_pick) rand(1) if { var(txn.mq_route) -m str v2 }",
      "use-server r2 if { var(txn.mq_route) -m str v2 } { var(txn.mq_route_pick) -m int 0 }",
      "http-request set-var(txn.mq_route_pick) rand(2) if { var(txn.mq_route) -m str v1 }",
      "use-server r0 if { var(txn.mq_route) -m str v1 } { var(txn.mq_route_pick) -m int 0 }",
      "use-server r1 if { var(txn.mq_route) -m str v1 } { var(txn.mq_route_pick) -m int 1 }",
    ]);
    expect(warnings.map((w) => w.id)).toContain("route-retry-any-version");
  });

  it("refuses a route value the config cannot hold as one word", () => {
    expect(() => routing(policy({ routes: [{ match: { header: "x-canary", value: "a b" }, to: "v2" }] }))).toThrow(/cannot be written into the config/);
  });
});
