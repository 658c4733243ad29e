import { describe, expect, it } from "vitest";
import { buildPlan } from "../plan/plan.js";
import { haproxyDataPlane } from "../dataplane/haproxy/index.js";
import { formatProblem } from "./format-problem.js";
import { parseScenario } from "./load-scenario.js";

const CHAIN = `name: grpc-chain
services:
  frontend: { protocol: grpc, calls: [checkout] }
  checkout: { protocol: grpc, calls: [payments] }
  payments: { protocol: grpc, replicas: 2 }
policies:
  payments:
    retries: { attempts: 2, retryOn: [unavailable, connect-failure] }
acknowledge: [grpc-retry-trailers]
load: { protocol: grpc, method: meshquake.Fixture/Call, rate: 10, duration: 5s }
faults:
  - { name: unavailable, kind: abort, target: payments, percent: 50, at: 1s }
`;

const problems = (text: string) => parseScenario("s.yaml", text).problems.map(formatProblem);

describe("protocols", () => {
  it("resolve: a service's protocol, gRPC retry conditions, a grpc abort's status (default UNAVAILABLE)", () => {
    const { scenario, problems: found } = parseScenario("s.yaml", CHAIN);
    expect(found.map(formatProblem)).toEqual([]);
    expect(scenario!.services.map((s) => s.protocol)).toEqual(["grpc", "grpc", "grpc"]);
    expect(scenario!.policies["payments"]!.retries!.retryOn).toEqual(["unavailable", "connect-failure"]);
    expect(scenario!.faults[0]).toMatchObject({ kind: "abort", grpcStatus: 14 });
    const plan = buildPlan({ scenario: scenario!, runId: "mq-t", image: "img", dataPlane: haproxyDataPlane });
    const checkout = plan.pods.find((p) => p.id === "checkout-0")!;
    expect(checkout.app.env).toMatchObject({ MQ_PROTOCOL: "grpc" });
    const http = parseScenario("s.yaml", "name: h\nservices: { a: {} }\nload: { rate: 1, duration: 1s }\n").scenario!;
    expect(http.services[0]!.protocol).toBeUndefined();
  });

  it("refuses what cannot work: a fixture calling across gRPC and HTTP, gRPC conditions on HTTP, the wrong abort status", () => {
    const text = `name: mixed
services:
  frontend: { calls: [checkout] }
  checkout: { protocol: grpc, calls: [payments] }
  payments: {}
policies:
  payments:
    retries: { attempts: 2, retryOn: [unavailable] }
load: { rate: 10, duration: 5s }
faults:
  - { name: a, kind: abort, target: payments, grpcStatus: 14 }
  - { name: b, kind: abort, target: checkout, status: 503 }
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^s\.yaml:3:23 services\.frontend\.calls\[0\]: "frontend" is an http fixture, which calls its downstreams over HTTP, and "checkout" speaks grpc/),
      expect.stringMatching(/^s\.yaml:4:39 services\.checkout\.calls\[0\]: "checkout" is a grpc fixture, .* "payments" speaks http/),
      expect.stringMatching(/^s\.yaml:8:39 policies\.payments\.retries\.retryOn\[0\]: retryOn unavailable is a gRPC condition, and "payments" speaks http/),
      expect.stringMatching(/^s\.yaml:11:47 faults\[0\]\.grpcStatus: "payments" speaks http, so its requests have no gRPC status; use status/),
      expect.stringMatching(/^s\.yaml:12:47 faults\[1\]\.status: "checkout" speaks grpc: an abort answers a gRPC status/),
    ]);
  });

  it("a load calls a grpc target over gRPC and nothing else", () => {
    expect(problems("name: p\nservices: { a: { protocol: grpc } }\nload: { rate: 1, duration: 1s }\n")).toEqual([
      expect.stringMatching(/"a" speaks grpc, so the load calls it over gRPC: give load.protocol: grpc and load.method/),
    ]);
    expect(problems("name: p\nservices: { a: {} }\nload: { protocol: grpc, method: meshquake.Fixture/Call, rate: 1, duration: 1s }\n")).toEqual([
      expect.stringMatching(/^s\.yaml:3:\d+ load\.protocol: a gRPC load calls a grpc service, and the load's target "a" speaks http/),
    ]);
  });

  it("names what a protocol may be", () => {
    expect(problems("name: p\nservices: { a: { protocol: h2 } }\nload: { rate: 1, duration: 1s }\n")[0]).toMatch(/services\.a\.protocol.*http.*http2.*grpc/);
  });
});
