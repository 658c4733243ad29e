import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatProblem } from "./format-problem.js";
import { importIstio, istioDurationMs } from "./istio-import.js";
import { parseScenario } from "./load-scenario.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const fromDisk = (path: string) => {
  try {
    return readFileSync(`${ROOT}${path}`, "utf8");
  } catch {
    return null;
  }
};
const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;
const SERVICES = ["frontend", "checkout", "payments", "inventory"];

describe("importIstio: fixtures/istio", () => {
  it("maps the payments VirtualService and DestinationRule to one policy", () => {
    const r = importIstio(["fixtures/istio/virtualservice.yaml", "fixtures/istio/destinationrule.yaml"], fromDisk, SERVICES);
    expect(r.policies).toEqual({
      payments: {
        timeout: "2s",
        // Istio's attempts: 2 counts retries; meshquake's counts tries, the first included.
        retries: { attempts: 3, perTryTimeout: "500ms", retryOn: ["5xx", "connect-failure"] },
        circuitBreaker: { maxConnections: 100, maxPending: 50 },
        outlierDetection: { consecutive5xx: 3, interval: "1s", baseEjectionTime: "15s", maxEjectionPercent: 50 },
        loadBalancer: "round-robin",
      },
    });
    expect(r.faults).toEqual([]);
    expect(r.problems.map(formatProblem)).toEqual([
      `fixtures/istio/virtualservice.yaml:22:18 warning: spec.http[0].retries.retryOn: retryOn "refused-stream" is not imported: meshquake has no ` +
        "condition for an HTTP/2 REFUSED_STREAM alone (and an http service's HTTP/1.1 hops have no streams)",
      "fixtures/istio/destinationrule.yaml:14:9 warning: spec.trafficPolicy.connectionPool.tcp.connectTimeout: tcp.connectTimeout is not " +
        "imported: meshquake's connect timeout is bounded by the per-try timeout, not set on its own",
      "fixtures/istio/destinationrule.yaml:17:9 warning: spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection: " +
        "http.maxRequestsPerConnection is not imported: connection reuse limits are not modelled",
    ]);
  });

  it("turns a VirtualService fault into faults spanning the whole load, and says where Istio differs", () => {
    const r = importIstio(["fixtures/istio/inventory-fault.yaml"], fromDisk, SERVICES);
    expect(r.faults).toEqual([
      { kind: "delay", name: "istio-inventory-delay", target: "inventory", delay: "50ms", percent: 20 },
      { kind: "abort", name: "istio-inventory-abort", target: "inventory", status: 503, percent: 10 },
    ]);
    // No retries on the route: Istio's default retry policy, reproduced.
    expect(r.policies.inventory).toEqual({ retries: { attempts: 3, retryOn: ["connect-failure", "503"] } });
    const lines = r.problems.map(formatProblem);
    expect(lines[0]).toMatch(/^fixtures\/istio\/inventory-fault\.yaml:11:7 warning: spec\.http\[0\]: this route sets no retries, so Istio applies its default/);
    expect(lines[1]).toBe(
      "fixtures/istio/inventory-fault.yaml:13:11 warning: spec.http[0].fault.abort: Istio aborts in the caller's sidecar, and does not retry its own " +
        "injected abort: this route's retries never see it. meshquake aborts at the inbound side of inventory, where the caller's retries (attempts 3) " +
        "do retry 503, so fewer requests fail here than under Istio",
    );
    expect(lines).toHaveLength(2);
  });
});

describe("importIstio: field by field", () => {
  const vs = (http: string, extra = "") => `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: pay }
spec:
  hosts: [payments]${extra}
  http:
${http}`;

  it("maps retryOn conditions and lists what it cannot retry", () => {
    const r = importIstio(
      ["vs.yaml"],
      files({ "vs.yaml": vs("    - retries: { attempts: 4, retryOn: 'gateway-error,retriable-4xx,reset,cancelled,429,bogus' }") }),
      SERVICES,
    );
    expect(r.policies.payments?.retries).toEqual({ attempts: 5, retryOn: ["502", "503", "504", "409", "reset", "429"] });
    expect(r.problems.map((p) => p.message)).toEqual([
      `retryOn "cancelled" is not imported: a gRPC condition, and "payments" speaks http; state services.payments.protocol: grpc, or import its Service with a port named grpc-…`,
      `retryOn "bogus" is not an Envoy retry condition meshquake knows; ignored`,
    ]);
  });

  it("attempts: 0 means no retries; too many is an error at the field", () => {
    const none = importIstio(["vs.yaml"], files({ "vs.yaml": vs("    - retries: { attempts: 0 }\n      timeout: 1.5s") }), SERVICES);
    expect(none.policies.payments).toEqual({ timeout: "1.5s" });
    const many = importIstio(["vs.yaml"], files({ "vs.yaml": vs("    - retries: { attempts: 25, retryOn: 5xx }") }), SERVICES);
    expect(many.problems.map(formatProblem)).toEqual(["vs.yaml:7:28 spec.http[0].retries.attempts: 25 retries make 26 tries; meshquake allows at most 20 (19 retries)"]);
  });

  it("one policy per destination: the catch-all route; matches, mirrors and other hosts are reported", () => {
    const r = importIstio(
      ["vs.yaml"],
      files({
        "vs.yaml": vs(
          `    - match: [{ headers: { x-canary: { exact: "1" } } }]
      route: [{ destination: { host: payments, subset: v2 } }]
    - route: [{ destination: { host: payments.shop.svc.cluster.local } }, { destination: { host: ledger }, weight: 10 }]
      retries: { attempts: 1, retryOn: 5xx }
      mirror: { host: payments-shadow }`,
          "\n  gateways: [mesh]",
        ),
      }),
      SERVICES,
    );
    expect(r.policies).toEqual({ payments: { retries: { attempts: 2, retryOn: ["5xx"] } } });
    expect(r.problems.map(formatProblem)).toEqual([
      // The match is imported as a route, once its subset is a version: here no DestinationRule defines it.
      `vs.yaml:9:56 warning: spec.http[0].route[0].destination.subset: subset "v2" is not defined: no DestinationRule for "payments" is imported; ` +
        "this route is not imported",
      "vs.yaml:10:14 warning: spec.http[1].route: traffic split across services is not modelled: each destination gets this route's policy, and load is not weighted",
      `vs.yaml:10:98 warning: spec.http[1].route[1].destination.host: host "ledger" names no service of this scenario, so this is not imported. ` +
        `Services: "frontend", "checkout", "payments", "inventory".`,
      "vs.yaml:12:7 warning: spec.http[1].mirror: mirror is not imported: mirroring is not modelled",
    ]);
  });

  it("maps a DestinationRule: breaker, outlier detection, load balancer, retry budget; lists the rest", () => {
    const dr = `apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: pay }
spec:
  host: payments
  subsets: [{ name: v1, labels: { version: v1 } }]
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 10 }
      http: { http1MaxPendingRequests: 0, http2MaxRequests: 100, maxRetries: 3 }
    outlierDetection: { consecutiveGatewayErrors: 2, baseEjectionTime: 30s, minHealthPercent: 50 }
    loadBalancer: { simple: LEAST_REQUEST, localityLbSetting: { enabled: true } }
    retryBudget: { percent: 25, minRetryConcurrency: 5 }
    tls: { mode: ISTIO_MUTUAL }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw }
`;
    const r = importIstio(["dr.yaml"], files({ "dr.yaml": dr }), SERVICES);
    expect(r.policies.payments).toEqual({
      circuitBreaker: { maxConnections: 10, maxPending: 0 },
      outlierDetection: { consecutive5xx: 2, baseEjectionTime: "30s" },
      loadBalancer: "least-request",
      // A budget with no VirtualService: Istio's default retries, limited by it.
      retries: { attempts: 3, retryOn: ["connect-failure", "503"], budget: { ratio: 0.25, minPerSecond: 5 } },
    });
    // Subsets are read (as versions of the same name), so they are not listed.
    expect(r.problems.map((p) => `${p.line}:${p.col} ${p.path}`)).toEqual([
      "10:43 spec.trafficPolicy.connectionPool.http.http2MaxRequests",
      "10:66 spec.trafficPolicy.connectionPool.http.maxRetries",
      "11:51 spec.trafficPolicy.outlierDetection.consecutiveGatewayErrors",
      "11:77 spec.trafficPolicy.outlierDetection.minHealthPercent",
      "12:44 spec.trafficPolicy.loadBalancer.localityLbSetting",
      "13:18 spec.trafficPolicy.retryBudget",
      "13:18 spec.trafficPolicy.retryBudget",
      "14:5 spec.trafficPolicy.tls",
      "17:7 kind",
    ]);
    expect(r.problems.find((p) => p.path.endsWith("consecutiveGatewayErrors"))?.message).toMatch(/counts only 502, 503 and 504/);
    expect(r.problems.every((p) => p.severity === "warning")).toBe(true);
  });

  it("Istio durations are Go's", () => {
    const f: never[] = [];
    expect(["1s", "1.5s", "250ms", "1m30s", "1h", "500us", 2].map((d) => istioDurationMs(d, [], f))).toEqual([1000, 1500, 250, 90_000, 3_600_000, 1, null]);
  });
});

describe("importIstio: splits and routes", () => {
  const VERSIONS = { payments: ["v1", "v2"] };
  const DR = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: pay }
spec:
  host: payments
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]
`;
  const HEAD = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: pay }
spec:
  hosts: [payments]
  http:
`;
  /** `http` before a catch-all route to v1. */
  const vs = (http: string) => `${HEAD}${http}
    - route: [{ destination: { host: payments, subset: v1 } }]
      retries: { attempts: 0 }
`;
  const canary = (http: string, versions: Record<string, string[]> = VERSIONS, dr = DR) =>
    importIstio(["vs.yaml", "dr.yaml"], files({ "vs.yaml": vs(http), "dr.yaml": dr }), SERVICES, versions);
  const SPLIT = `    - route:
        - { destination: { host: payments, subset: v1 }, weight: 90 }
        - { destination: { host: payments, subset: v2 }, weight: 10 }
      retries: { attempts: 0 }`;
  /** `http` alone. */
  const split = (http: string, versions = VERSIONS, dr = DR) =>
    importIstio(["vs.yaml", "dr.yaml"], files({ "vs.yaml": HEAD + http, "dr.yaml": dr }), SERVICES, versions);

  it("fixtures/istio/canary.yaml: header and path matches become routes, the catch-all's weights the split", () => {
    const r = importIstio(["fixtures/istio/canary.yaml"], fromDisk, SERVICES, VERSIONS);
    expect(r.policies).toEqual({
      payments: {
        timeout: "2s",
        retries: { attempts: 3, retryOn: ["5xx"] },
        split: { v1: 90, v2: 10 },
        // Istio ORs a route's matches: one meshquake route each, in order, before the split.
        routes: [
          { match: { header: "x-canary", value: "1" }, to: "v2" },
          { match: { path: "/beta" }, to: "v2" },
        ],
      },
    });
    expect(r.problems).toEqual([]);
  });

  it("a catch-all route to subsets of one service is a split; one subset alone takes every request", () => {
    expect(split(SPLIT).policies.payments).toEqual({ split: { v1: 90, v2: 10 } });
    expect(split(SPLIT).problems).toEqual([]);
    // The fixture's own catch-all: one destination, weight or not.
    expect(canary("").policies.payments).toEqual({ split: { v1: 100 } });
  });

  it("weights that do not add up to 100 are relative in Istio: not imported, the percentages suggested", () => {
    const r = split(SPLIT.replace("weight: 90", "weight: 1").replace("weight: 10", "weight: 2"));
    expect(r.policies.payments).toEqual({});
    expect(r.problems.map(formatProblem)).toEqual([
      "vs.yaml:8:9 warning: spec.http[0].route: the weights add up to 3: Istio sends each destination weight/3 of the requests, and a meshquake " +
        "split is in percent, adding up to 100; the split is not imported. Write it in the scenario as policies.payments.split: { v1: 33.33, v2: 66.67 }",
    ]);
    // An unset weight among several destinations is 0, as in Istio; a weight that is not a whole number is an error.
    expect(split(SPLIT.replace(", weight: 10", "").replace("weight: 90", "weight: 100")).policies.payments).toEqual({ split: { v1: 100, v2: 0 } });
    expect(split(SPLIT.replace("weight: 10", "weight: ten")).problems.map(formatProblem)).toEqual([
      `vs.yaml:9:66 spec.http[0].route[1].weight: expected a whole number of at least 0, found "ten"`,
    ]);
  });

  it("a subset must be defined by the host's DestinationRule and be a version of the service, else the split is not imported", () => {
    const noDr = importIstio(["vs.yaml"], files({ "vs.yaml": HEAD + SPLIT }), SERVICES, VERSIONS);
    expect(noDr.policies.payments).toEqual({});
    expect(noDr.problems.map(formatProblem)).toEqual([
      'vs.yaml:8:52 warning: spec.http[0].route[0].destination.subset: subset "v1" is not defined: no DestinationRule for "payments" is imported; this split is not imported',
      'vs.yaml:9:52 warning: spec.http[0].route[1].destination.subset: subset "v2" is not defined: no DestinationRule for "payments" is imported; this split is not imported',
    ]);
    const onlyV1 = split(SPLIT, VERSIONS, DR.replace(", { name: v2, labels: { version: v2 } }", ""));
    expect(onlyV1.policies.payments).toEqual({});
    expect(onlyV1.problems.map(formatProblem)).toEqual([
      `vs.yaml:9:52 warning: spec.http[0].route[1].destination.subset: subset "v2" is not defined by the DestinationRule for "payments" (its subsets: "v1"); ` +
        "this split is not imported",
    ]);
    const noSubsets = split(SPLIT, VERSIONS, DR.replace(/  subsets: .*\n/, ""));
    expect(noSubsets.problems.map((p) => p.message)).toEqual([
      'subset "v1" is not defined by the DestinationRule for "payments" (it defines none); this split is not imported',
      'subset "v2" is not defined by the DestinationRule for "payments" (it defines none); this split is not imported',
    ]);
    const noVersion = split(SPLIT, { payments: ["v1"] });
    expect(noVersion.policies.payments).toEqual({});
    expect(noVersion.problems.map(formatProblem)).toEqual([
      `vs.yaml:9:52 warning: spec.http[0].route[1].destination.subset: subset "v2" is not a version of "payments" in the scenario: add versions: ` +
        "{ v2: {...} } to services.payments (versions are matched by subset name); this split is not imported",
    ]);
  });

  it("a split between subsets and the whole service, or between services, is not imported", () => {
    const mixed = split(SPLIT.replace(", subset: v2", ""));
    expect(mixed.problems.map(formatProblem)).toEqual([
      `vs.yaml:8:9 warning: spec.http[0].route: a split between subsets and the whole of "payments" is not imported: give every destination a subset (a version of the service)`,
    ]);
    const across = split(SPLIT.replace("host: payments, subset: v2", "host: inventory"));
    expect(across.problems.map(formatProblem)).toEqual([
      "vs.yaml:8:9 warning: spec.http[0].route: traffic split across services is not modelled: each destination gets this route's policy, and load is not weighted",
      "vs.yaml:8:44 warning: spec.http[0].route[0].destination.subset: subset is not imported: this route splits between services, so every version of the service is a destination",
    ]);
  });

  it("a header's exact value and a path prefix are routes; every other condition is reported, located, and the match skipped", () => {
    const route = (match: string) => `    - match: [${match}]\n      route: [{ destination: { host: payments, subset: v2 } }]`;
    const imported = (match: string) => canary(route(match)).policies.payments?.routes;
    const reported = (match: string) => canary(route(match)).problems.map(formatProblem);
    expect(imported(`{ headers: { x-user: { exact: alice } } }, { uri: { prefix: /v2/ } }`)).toEqual([
      { match: { header: "x-user", value: "alice" }, to: "v2" },
      { match: { path: "/v2/" }, to: "v2" },
    ]);
    expect(reported(`{ headers: { x-user: { regex: "a.*" } } }`)).toEqual([
      'vs.yaml:7:38 warning: spec.http[0].match[0].headers.x-user.regex: header "x-user" regex is not imported: a meshquake route matches a header\'s exact value',
    ]);
    expect(reported(`{ uri: { exact: /pay } }`)).toEqual([
      "vs.yaml:7:24 warning: spec.http[0].match[0].uri.exact: uri exact is not imported: a meshquake path route matches a prefix (/api matches /api/x)",
    ]);
    expect(reported(`{ uri: { regex: "/p.*" } }`)).toEqual([
      "vs.yaml:7:24 warning: spec.http[0].match[0].uri.regex: uri regex is not imported: a meshquake path route matches a prefix",
    ]);
    expect(reported(`{ headers: { x-a: { exact: "1" } }, uri: { prefix: /a } }`)).toEqual([
      "vs.yaml:7:15 warning: spec.http[0].match[0]: several conditions in one match (all must hold) are not imported: a meshquake route matches one header or one path prefix",
    ]);
    expect(reported(`{ queryParams: { q: { exact: "1" } }, method: { exact: GET } }`)).toEqual([
      "vs.yaml:7:17 warning: spec.http[0].match[0].queryParams: queryParams is not imported: a meshquake route matches a header or a path, not query parameters; this match is skipped",
      "vs.yaml:7:53 warning: spec.http[0].match[0].method: method is not imported: a meshquake route matches a header or a path, not the method; this match is skipped",
    ]);
    expect(reported(`{ headers: { x-a: { exact: "two words" } } }`)).toEqual([
      "vs.yaml:7:42 warning: spec.http[0].match[0].headers.x-a.exact: this header match is not imported: meshquake routes on a header name of letters, digits, - and _ " +
        "and a value of letters, digits and ._~:/@+=,;*- (no spaces or quotes)",
    ]);
  });

  it("a matching route goes to one subset of the service called; its own policy is not imported", () => {
    const problems = (http: string) => canary(http).problems.map(formatProblem);
    expect(
      problems(`    - match: [{ uri: { prefix: /a } }]
      route: [{ destination: { host: payments, subset: v1 }, weight: 50 }, { destination: { host: payments, subset: v2 }, weight: 50 }]`),
    ).toEqual(["vs.yaml:8:14 warning: spec.http[0].route: a split under a match is not imported: a meshquake route sends what matches to one version"]);
    expect(
      problems(`    - match: [{ uri: { prefix: /a } }]
      route: [{ destination: { host: payments } }]`),
    ).toEqual([
      `vs.yaml:8:30 warning: spec.http[0].route[0].destination: a route to every version of "payments" (no subset) is not imported: a meshquake route sends what matches to one version`,
    ]);
    expect(
      problems(`    - match: [{ uri: { prefix: /a } }]
      route: [{ destination: { host: inventory, subset: v2 } }]`),
    ).toEqual([
      `vs.yaml:8:38 warning: spec.http[0].route[0].destination.host: a route to another service is not imported: a meshquake route sends to a version of the service called ("payments")`,
    ]);
    const r = canary(`    - match: [{ uri: { prefix: /a } }]
      route: [{ destination: { host: payments, subset: v2 } }]
      timeout: 1s
      retries: { attempts: 5 }`);
    expect(r.policies.payments).toEqual({ split: { v1: 100 }, routes: [{ match: { path: "/a" }, to: "v2" }] });
    expect(r.problems.map(formatProblem)).toEqual([
      "vs.yaml:9:7 warning: spec.http[0].timeout: timeout is not imported: meshquake applies one policy per destination, taken from http[1]",
      "vs.yaml:10:7 warning: spec.http[0].retries: retries is not imported: meshquake applies one policy per destination, taken from http[1]",
    ]);
    // A subset the scenario has no version of: that route alone is skipped.
    expect(canary(`    - match: [{ uri: { prefix: /a } }]\n      route: [{ destination: { host: payments, subset: v2 } }]`, { payments: ["v1"] }).problems.map(formatProblem)).toEqual([
      `vs.yaml:8:56 warning: spec.http[0].route[0].destination.subset: subset "v2" is not a version of "payments" in the scenario: add versions: ` +
        "{ v2: {...} } to services.payments (versions are matched by subset name); this route is not imported",
    ]);
  });

  it("after the catch-all a route is never reached; without a catch-all the first route's policy applies to every request", () => {
    const after = importIstio(
      ["vs.yaml", "dr.yaml"],
      files({ "vs.yaml": `${vs("")}    - match: [{ uri: { prefix: /a } }]\n      route: [{ destination: { host: payments, subset: v2 } }]\n`, "dr.yaml": DR }),
      SERVICES,
      VERSIONS,
    );
    expect(after.policies.payments).toEqual({ split: { v1: 100 } });
    expect(after.problems.map(formatProblem)).toEqual([
      "vs.yaml:10:7 warning: spec.http[1]: route http[1] is not imported: http[0] has no match and takes every request before it, in Istio too",
    ]);
    const noCatchAll = importIstio(
      ["vs.yaml", "dr.yaml"],
      files({
        "vs.yaml": `${HEAD}    - match: [{ headers: { x-canary: { exact: "1" } } }]\n      route: [{ destination: { host: payments, subset: v2 } }]\n      timeout: 1s\n      retries: { attempts: 0 }\n`,
        "dr.yaml": DR,
      }),
      SERVICES,
      VERSIONS,
    );
    expect(noCatchAll.policies.payments).toEqual({ timeout: "1s", routes: [{ match: { header: "x-canary", value: "1" }, to: "v2" }] });
    expect(noCatchAll.problems.map(formatProblem)).toEqual([
      "vs.yaml:7:7 warning: spec.http[0].match: no route of VirtualService pay is without match, so meshquake applies this route's timeout, retries " +
        "and faults to every request to payments; Istio answers 404 to requests no route matches",
    ]);
  });

  it("a subset's own traffic policy is reported; its labels are not read", () => {
    const r = importIstio(
      ["dr.yaml"],
      files({ "dr.yaml": DR.replace("{ name: v2, labels: { version: v2 } }", "{ name: v2, labels: { version: v2 }, trafficPolicy: { loadBalancer: { simple: RANDOM } } }") }),
      SERVICES,
      VERSIONS,
    );
    expect(r.policies.payments).toEqual({});
    expect(r.problems.map(formatProblem)).toEqual([
      "dr.yaml:6:89 warning: spec.subsets[1].trafficPolicy: a subset's trafficPolicy is not imported: meshquake applies one policy per service, to every version",
    ]);
  });
});

describe("importIstio: a Kubernetes Service states the protocol", () => {
  const service = (name: string, ports: string, apiVersion = "v1") => `apiVersion: ${apiVersion}
kind: Service
metadata: { name: ${name} }
spec:
  selector: { app: ${name} }
  ports:
${ports}`;

  it("reads appProtocol first, else the port name's prefix, as Istio's protocol selection does", () => {
    const protocolOf = (ports: string) => importIstio(["svc.yaml"], files({ "svc.yaml": service("payments", ports) }), SERVICES).protocols.payments;
    const cases: Array<[string, string | undefined]> = [
      ["    - { port: 50051, name: http-api, appProtocol: grpc }", "grpc"],
      ["    - { port: 50051, name: grpc }", "grpc"],
      ["    - { port: 50051, name: GRPC-payments }", "grpc"],
      ["    - { port: 8080, name: http2-api }", "http2"],
      ["    - { port: 8080, name: h2c }", "http2"],
      ["    - { port: 8080, appProtocol: kubernetes.io/h2c }", "http2"],
      ["    - { port: 8080, name: grpc-web }", "http2"],
      ["    - { port: 8080, name: http-web }", "http"],
      ["    - { port: 8080, name: httpforecast }", undefined],
      ["    - { port: 8080, name: tcp-db }", undefined],
      ["    - { port: 8080 }", undefined],
      ["    - { port: 8080, name: grpc, protocol: UDP }", undefined],
      ["    - { port: 8080, name: grpc }\n    - { port: 9090, name: metrics }", "grpc"],
    ];
    expect(cases.map(([ports]) => protocolOf(ports))).toEqual(cases.map(([, protocol]) => protocol));
  });

  it("locates where the protocol is stated, and reports what it does not import", () => {
    const r = importIstio(
      ["svc.yaml"],
      files({
        "svc.yaml": [
          service("payments", "    - { port: 8080, name: http-api, appProtocol: grpc }"),
          service("ledger", "    - { port: 8080, name: grpc }"),
          service("checkout", "    - { port: 8080, name: http }\n    - { port: 50051, name: grpc }"),
          service("inventory", "    - { port: 8080, name: grpc-web }"),
          service("frontend", "    - { port: 8080, name: grpc }", "apps/v1"),
          service("payments", "    - { port: 8080, name: http }"),
        ].join("\n---\n"),
      }),
      SERVICES,
    );
    expect(r.protocols).toEqual({ payments: "grpc", inventory: "http2" });
    expect(r.protocolOrigins.get("payments")?.path).toEqual(["spec", "ports", 0, "appProtocol"]);
    expect(r.problems.map(formatProblem)).toEqual([
      `svc.yaml:11:19 warning: metadata.name: Service "ledger" names no service of this scenario, so its protocol is not imported. ` +
        `Services: "frontend", "checkout", "payments", "inventory".`,
      "svc.yaml:22:3 warning: spec.ports: the ports state different protocols (http on 8080, grpc on 50051) and meshquake meshes one port per " +
        "service; none is imported: write services.checkout.protocol",
      "svc.yaml:32:27 warning: spec.ports[0].name: grpc-web is imported as http2, as Istio's sidecars treat it; meshquake's grpc is gRPC over h2c",
      `svc.yaml:34:13 apiVersion: expected apiVersion v1 for a Service, found "apps/v1"`,
      `svc.yaml:44:19 warning: metadata.name: "payments" already takes its protocol from svc.yaml:3; not imported again`,
    ]);
  });

  it("gRPC retry conditions import for a grpc destination, wherever its Service is written; else a warning", () => {
    const vs = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: pay }
spec:
  hosts: [payments]
  http:
    - retries: { attempts: 2, retryOn: 'unavailable,cancelled,deadline-exceeded,internal,resource-exhausted,connect-failure' }
`;
    const grpc = importIstio(["vs.yaml", "svc.yaml"], files({ "vs.yaml": vs, "svc.yaml": service("payments", "    - { port: 50051, name: grpc }") }), SERVICES);
    expect(grpc.policies.payments?.retries).toEqual({
      attempts: 3,
      retryOn: ["unavailable", "cancelled", "deadline-exceeded", "internal", "resource-exhausted", "connect-failure"],
    });
    expect(grpc.problems).toEqual([]);
    // The scenario's own protocol counts the same way, and wins over a Service's.
    const stated = importIstio(["vs.yaml"], files({ "vs.yaml": vs }), SERVICES, {}, { payments: "grpc" });
    expect(stated.policies.payments?.retries?.retryOn).toHaveLength(6);
    const http = importIstio(["vs.yaml", "svc.yaml"], files({ "vs.yaml": vs, "svc.yaml": service("payments", "    - { port: 50051, name: grpc }") }), SERVICES, {}, { payments: "http2" });
    expect(http.policies.payments?.retries).toEqual({ attempts: 3, retryOn: ["connect-failure"] });
    expect(http.problems.map(formatProblem)).toEqual(
      ["unavailable", "cancelled", "deadline-exceeded", "internal", "resource-exhausted"].map(
        (on) =>
          `vs.yaml:7:40 warning: spec.http[0].retries.retryOn: retryOn "${on}" is not imported: a gRPC condition, and "payments" speaks http2; ` +
          "state services.payments.protocol: grpc, or import its Service with a port named grpc-…",
      ),
    );
  });
});

describe("importIstio: gRPC and HTTP/2 destinations", () => {
  const vs = (route: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: pay }
spec:
  hosts: [payments]
  http:
${route}`;
  const imported = (route: string, protocol: "http" | "http2" | "grpc") => importIstio(["vs.yaml"], files({ "vs.yaml": vs(route) }), SERVICES, {}, { payments: protocol });
  const NO_RETRIES = "    - retries: { attempts: 0 }\n";

  it("an abort's grpcStatus (a name, or an older Istio's number) is a grpc abort", () => {
    const named = imported(`${NO_RETRIES}      fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 25 } } }`, "grpc");
    expect(named.faults).toEqual([{ kind: "abort", name: "istio-pay-abort", target: "payments", grpcStatus: 14, percent: 25 }]);
    expect(named.problems).toEqual([]);
    const numbered = imported(`${NO_RETRIES}      fault: { abort: { grpcStatus: 8 } }`, "grpc");
    expect(numbered.faults).toEqual([{ kind: "abort", name: "istio-pay-abort", target: "payments", grpcStatus: 8, percent: 100 }]);
  });

  it("a grpcStatus that is no status, OK, or on a destination that does not speak grpc is not imported, located", () => {
    const unknown = imported(`${NO_RETRIES}      fault: { abort: { grpcStatus: UNAVALIABLE } }`, "grpc");
    const ok = imported(`${NO_RETRIES}      fault: { abort: { grpcStatus: OK } }`, "grpc");
    const http = imported(`${NO_RETRIES}      fault: { abort: { grpcStatus: UNAVAILABLE } }`, "http2");
    expect([...unknown.faults, ...ok.faults, ...http.faults]).toEqual([]);
    expect([...unknown.problems, ...ok.problems, ...http.problems].map(formatProblem)).toEqual([
      `vs.yaml:8:37 warning: spec.http[0].fault.abort.grpcStatus: grpcStatus "UNAVALIABLE" is not a gRPC status; not imported. Names: "CANCELLED", ` +
        `"UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", ` +
        `"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED".`,
      "vs.yaml:8:37 warning: spec.http[0].fault.abort.grpcStatus: grpcStatus OK is a success, not an abort; not imported",
      `vs.yaml:8:25 warning: spec.http[0].fault.abort.grpcStatus: grpcStatus is not imported: "payments" speaks http2, so its requests have no ` +
        "gRPC status; state services.payments.protocol: grpc, or import its Service with a port named grpc-…, or use httpStatus",
    ]);
  });

  it("an httpStatus on a grpc destination imports as the gRPC status a gRPC call reads from it; http2Error is not supported", () => {
    const r = imported(`${NO_RETRIES}      fault: { abort: { httpStatus: 503, percentage: { value: 10 } } }`, "grpc");
    expect(r.faults).toEqual([{ kind: "abort", name: "istio-pay-abort", target: "payments", grpcStatus: 14, percent: 10 }]);
    const forbidden = imported(`${NO_RETRIES}      fault: { abort: { httpStatus: 403 } }`, "grpc");
    expect(forbidden.faults[0]).toMatchObject({ grpcStatus: 7 });
    const h2 = imported(`${NO_RETRIES}      fault: { abort: { http2Error: REFUSED_STREAM } }`, "http2");
    expect(h2.faults).toEqual([]);
    expect([...r.problems, ...h2.problems].map(formatProblem)).toEqual([
      `vs.yaml:8:37 warning: spec.http[0].fault.abort.httpStatus: "payments" speaks grpc, and a gRPC call aborted with HTTP 503 ends with status ` +
        "UNAVAILABLE (14), as gRPC reads an HTTP status (Envoy's answer to a gRPC call carries that status); imported as grpcStatus: 14",
      "vs.yaml:8:25 warning: spec.http[0].fault.abort.http2Error: http2Error is not supported: a meshquake abort answers an HTTP status, or a gRPC " +
        "status on a grpc service, not an HTTP/2 stream error; use httpStatus or grpcStatus",
    ]);
  });

  it("Istio's default retries keep unavailable and cancelled for a grpc destination, which then retry a grpc abort", () => {
    const r = imported("    - fault: { abort: { grpcStatus: UNAVAILABLE } }", "grpc");
    expect(r.policies.payments).toEqual({ retries: { attempts: 3, retryOn: ["connect-failure", "503", "unavailable", "cancelled"] } });
    expect(r.faults).toEqual([{ kind: "abort", name: "istio-pay-abort", target: "payments", grpcStatus: 14, percent: 100 }]);
    expect(r.problems.map(formatProblem)).toEqual([
      "vs.yaml:7:7 warning: spec.http[0]: this route sets no retries, so Istio applies its default: 2 retries on connect-failure, refused-stream, " +
        "unavailable, cancelled and 503. Imported as retries { attempts: 3, retryOn: [connect-failure, 503, unavailable, cancelled] } " +
        "(refused-stream has no meshquake condition)",
      "vs.yaml:7:23 warning: spec.http[0].fault.abort: Istio aborts in the caller's sidecar, and does not retry its own injected abort: this " +
        "route's retries never see it. meshquake aborts at the inbound side of payments, where the caller's retries (attempts 3) do retry " +
        "UNAVAILABLE, so fewer requests fail here than under Istio",
    ]);
    // A status no default condition retries: no warning.
    expect(imported("    - fault: { abort: { grpcStatus: INTERNAL } }", "grpc").problems).toHaveLength(1);
    // Retries without retryOn take the same conditions.
    const noOn = imported("    - retries: { attempts: 1 }", "grpc");
    expect(noOn.policies.payments?.retries).toEqual({ attempts: 2, retryOn: ["connect-failure", "503", "unavailable", "cancelled"] });
    expect(noOn.problems.map((p) => p.message)).toEqual([
      "no retryOn: Istio then retries on connect-failure, refused-stream, unavailable, cancelled and 503; imported as " +
        "[connect-failure, 503, unavailable, cancelled] (refused-stream has no meshquake condition)",
    ]);
  });

  it("for an http or http2 destination Istio's default retries import as [connect-failure, 503], saying why", () => {
    for (const protocol of ["http", "http2"] as const) {
      const r = imported("    - timeout: 1s", protocol);
      expect(r.policies.payments?.retries).toEqual({ attempts: 3, retryOn: ["connect-failure", "503"] });
      expect(r.problems.map((p) => p.message)).toEqual([
        "this route sets no retries, so Istio applies its default: 2 retries on connect-failure, refused-stream, unavailable, cancelled and 503. " +
          `Imported as retries { attempts: 3, retryOn: [connect-failure, 503] } (unavailable and cancelled are gRPC conditions, and "payments" ` +
          `speaks ${protocol}; refused-stream has no meshquake condition)`,
      ]);
    }
  });

  it("tcp and tls routes and HTTP/3 retries are not imported, with the reason", () => {
    const r = importIstio(
      ["vs.yaml"],
      files({ "vs.yaml": `${vs("    - retries: { attempts: 1, retryOn: 'http3-post-connect-failure,5xx' }")}\n  tcp: []\n  tls: []\n` }),
      SERVICES,
    );
    expect(r.problems.map(formatProblem)).toEqual([
      `vs.yaml:7:40 warning: spec.http[0].retries.retryOn: retryOn "http3-post-connect-failure" is not imported: meshquake's hops are never HTTP/3 ` +
        "(HTTP/1.1, or HTTP/2 for http2 and grpc services)",
      "vs.yaml:8:3 warning: spec.tcp: tcp routes are not imported: meshquake meshes plaintext HTTP (http, http2 and grpc services), not raw TCP traffic",
      "vs.yaml:9:3 warning: spec.tls: tls routes are not imported: meshquake meshes plaintext HTTP (http, http2 and grpc services), not TLS-routed traffic",
    ]);
  });

  const dr = (pool: string, extra = "") => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: pay }
spec:
  host: payments
  trafficPolicy:
    connectionPool:
${pool}${extra}`;

  it("http2MaxRequests bounds an HTTP/2 destination's requests in flight: circuitBreaker.maxConnections; tcp.maxConnections does not", () => {
    const pool = "      tcp: { maxConnections: 4 }\n      http: { http2MaxRequests: 50, http1MaxPendingRequests: 10 }\n";
    for (const protocol of ["grpc", "http2"] as const) {
      const r = importIstio(["dr.yaml"], files({ "dr.yaml": dr(pool) }), SERVICES, {}, { payments: protocol });
      expect(r.policies.payments?.circuitBreaker).toEqual({ maxConnections: 50, maxPending: 10 });
      expect(r.policyOrigins.get("payments.circuitBreaker.maxConnections")?.path).toEqual(["spec", "trafficPolicy", "connectionPool", "http", "http2MaxRequests"]);
      expect(r.problems.map(formatProblem)).toEqual([
        `dr.yaml:8:14 warning: spec.trafficPolicy.connectionPool.tcp.maxConnections: tcp.maxConnections is not imported: "payments" speaks ${protocol}, ` +
          "and Envoy multiplexes its requests over HTTP/2 connections, so this bounds connections, not requests in flight; http.http2MaxRequests " +
          "bounds those (circuitBreaker.maxConnections)",
        `dr.yaml:9:33 warning: spec.trafficPolicy.connectionPool.http.http2MaxRequests: "payments" speaks ${protocol}, many requests to a connection: ` +
          "http2MaxRequests bounds its requests in flight, imported as circuitBreaker.maxConnections. Envoy refuses a request over it at once; " +
          "meshquake queues it, up to circuitBreaker.maxPending",
      ]);
    }
    const http = importIstio(["dr.yaml"], files({ "dr.yaml": dr(pool) }), SERVICES);
    expect(http.policies.payments?.circuitBreaker).toEqual({ maxConnections: 4, maxPending: 10 });
    expect(http.problems.map(formatProblem)).toEqual([
      `dr.yaml:9:15 warning: spec.trafficPolicy.connectionPool.http.http2MaxRequests: http.http2MaxRequests is not imported: "payments" speaks http, ` +
        "one request to a connection, and meshquake takes the bound on its requests in flight from tcp.maxConnections (circuitBreaker.maxConnections)",
    ]);
  });

  it("HTTP/2 connection settings and TLS are not imported, with the reason", () => {
    const r = importIstio(
      ["dr.yaml"],
      files({ "dr.yaml": dr("      http: { h2UpgradePolicy: UPGRADE, useClientProtocol: true, maxConcurrentStreams: 100 }\n", "    tls: { mode: ISTIO_MUTUAL }\n") }),
      SERVICES,
      {},
      { payments: "grpc" },
    );
    expect(r.policies.payments).toEqual({});
    expect(r.problems.map((p) => p.message)).toEqual([
      "http.h2UpgradePolicy is not imported: meshquake speaks HTTP/2 between sidecars exactly for http2 and grpc services, as the service's protocol says",
      "http.useClientProtocol is not imported: meshquake's sidecars speak the service's protocol (HTTP/2 for http2 and grpc services, HTTP/1.1 for http), " +
        "not the client's",
      "http.maxConcurrentStreams is not imported: per-connection HTTP/2 stream limits are not modelled",
      "tls is not imported: meshquake's mesh is plaintext (HTTP/1.1, or h2c for http2 and grpc services); TLS settings are not modelled",
    ]);
  });
});

describe("a scenario importing Istio resources", () => {
  const read = (path: string) => {
    if (path === "s/vs.yaml")
      return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: payments }
spec:
  hosts: [payments]
  http:
    - timeout: 1s
      retries: { attempts: 2, perTryTimeout: 2s, retryOn: 5xx }
      fault: { abort: { httpStatus: 500, percentage: { value: 50 } } }
`;
    return null;
  };

  it("merges imported policies and faults; the scenario's own fields win, with a warning", () => {
    const { scenario, problems } = parseScenario(
      "s/scenario.yaml",
      `name: istio
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2 }
policies:
  istio: [./vs.yaml]
  payments: { timeout: 3s }
load: { duration: 5s }
`,
      { readFile: read },
    );
    expect(problems.map(formatProblem)).toEqual([
      `s/scenario.yaml:6:3 warning: policies.istio: no VirtualService names "frontend": Istio would still retry calls to them twice (its default ` +
        "retry policy), while meshquake gives them a plain proxy with no retries; import a VirtualService for them to compare like with like",
      "s/scenario.yaml:7:15 warning: policies.payments.timeout: overrides the timeout imported from s/vs.yaml",
      expect.stringMatching(/^s\/vs\.yaml:9:23 warning: spec\.http\[0\]\.fault\.abort: Istio aborts in the caller's sidecar/),
    ]);
    expect(scenario!.policies.payments).toMatchObject({ timeoutMs: 3000, retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ["5xx"] } });
    expect(scenario!.faults).toEqual([
      expect.objectContaining({ name: "istio-payments-abort", kind: "abort", target: "payments", status: 500, probability: 0.5, atMs: 0, durationMs: 5000 }),
    ]);
    // An imported fault carries its own file and position.
    expect(scenario!.faults[0]!.location).toEqual({ file: "s/vs.yaml", line: 9, col: 23 });
  });

  it("cross-checks of imported values point into the Istio file", () => {
    const { problems } = parseScenario(
      "s/scenario.yaml",
      `name: istio
services:
  frontend: { calls: [payments] }
  payments: {}
policies:
  istio: [./vs.yaml, ./missing.yaml]
`,
      { readFile: read },
    );
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^s\/scenario\.yaml:6:3 warning: policies\.istio: no VirtualService names "frontend"/),
      expect.stringMatching(/^s\/vs\.yaml:8:46 warning: spec\.http\[0\]\.retries\.perTryTimeout: perTryTimeout 2s is not shorter than the timeout 1s/),
      expect.stringMatching(/^s\/vs\.yaml:9:23 warning: spec\.http\[0\]\.fault\.abort: Istio aborts/),
      "s/missing.yaml:1:1 no such file (policies.istio names it)",
    ]);
  });
});

describe("a scenario importing a Kubernetes Service's protocol", () => {
  const svc = `apiVersion: v1
kind: Service
metadata: { name: payments }
spec:
  ports: [{ port: 50051, name: grpc-api }]
`;
  const vs = (route: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: payments }
spec:
  hosts: [payments]
  http:
${route}
`;
  const read = files({ "s/svc.yaml": svc, "s/vs.yaml": vs("    - retries: { attempts: 2, retryOn: unavailable }") });
  const scenario = (payments: string) => `name: grpc
services:
  frontend: { protocol: grpc, calls: [payments] }
  payments: ${payments}
policies:
  istio: [./svc.yaml, ./vs.yaml]
load: { protocol: grpc, method: meshquake.Fixture/Call, duration: 5s }
`;

  it("sets the protocol where the scenario states none, located in the Service", () => {
    const { scenario: s, problems, locate } = parseScenario("s/scenario.yaml", scenario("{}"), { readFile: read });
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^s\/scenario\.yaml:6:3 warning: policies\.istio: no VirtualService names "frontend"/)]);
    expect(s!.services.find((x) => x.name === "payments")?.protocol).toBe("grpc");
    expect(s!.policies.payments?.retries?.retryOn).toEqual(["unavailable"]);
    expect(locate!(["services", "payments", "protocol"])).toMatchObject({ file: "s/svc.yaml", line: 5, col: 32 });
  });

  it("an httpStatus abort on a service whose Service says grpc passes the cross-check, as the grpcStatus it stands for", () => {
    const abort = files({ "s/svc.yaml": svc, "s/vs.yaml": vs("    - retries: { attempts: 0 }\n      fault: { abort: { httpStatus: 503, percentage: { value: 50 } } }") });
    const { scenario: s, problems } = parseScenario("s/scenario.yaml", scenario("{}"), { readFile: abort });
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^s\/scenario\.yaml:6:3 warning: policies\.istio: no VirtualService names "frontend"/),
      expect.stringMatching(/^s\/vs\.yaml:8:37 warning: spec\.http\[0\]\.fault\.abort\.httpStatus: "payments" speaks grpc, .* imported as grpcStatus: 14$/),
    ]);
    expect(s!.faults).toEqual([expect.objectContaining({ name: "istio-payments-abort", kind: "abort", target: "payments", grpcStatus: 14, probability: 0.5 })]);
  });

  it("the scenario's own protocol wins, with a warning where they differ", () => {
    const { scenario: s, problems } = parseScenario("s/scenario.yaml", scenario("{ protocol: http2 }"), { readFile: read });
    expect(s).toBeNull();
    expect(problems.map(formatProblem)).toEqual([
      `s/scenario.yaml:3:39 services.frontend.calls[0]: "frontend" is a grpc fixture, which calls its downstreams over gRPC, and "payments" speaks http2; make "payments" grpc too`,
      "s/scenario.yaml:4:15 warning: services.payments.protocol: overrides the protocol grpc imported from s/svc.yaml",
      expect.stringMatching(/^s\/scenario\.yaml:6:3 warning: policies\.istio: no VirtualService names "frontend"/),
      `s/vs.yaml:7:40 warning: spec.http[0].retries.retryOn: retryOn "unavailable" is not imported: a gRPC condition, and "payments" speaks http2; ` +
        "state services.payments.protocol: grpc, or import its Service with a port named grpc-…",
      "s/vs.yaml:7:40 warning: spec.http[0].retries.retryOn: no condition here can be retried by meshquake, so these retries never happen",
    ]);
  });
});

describe("a scenario importing an Istio canary", () => {
  const canary = (policy: string) =>
    parseScenario(
      "fixtures/istio/canary-scenario.yaml",
      `name: canary
services:
  frontend: { calls: [payments] }
  payments:
    versions: { v1: { replicas: 2 }, v2: {} }
policies:
  istio: [./canary.yaml]
${policy}load: { duration: 5s }
`,
      { readFile: fromDisk },
    );
  const NO_FRONTEND_VS = expect.stringMatching(/^fixtures\/istio\/canary-scenario\.yaml:7:3 warning: policies\.istio: no VirtualService names "frontend"/);

  it("the split and routes apply to the scenario's versions", () => {
    const { scenario, problems } = canary("");
    expect(problems.map(formatProblem)).toEqual([NO_FRONTEND_VS]);
    expect(scenario!.policies["payments"]).toMatchObject({
      split: { v1: 0.9, v2: 0.1 },
      routes: [
        { match: { header: "x-canary", value: "1" }, to: "v2" },
        { match: { path: "/beta" }, to: "v2" },
      ],
    });
  });

  it("the scenario's own split wins over the imported one, with a warning; the imported routes stay", () => {
    const { scenario, problems } = canary("  payments: { split: { v1: 50, v2: 50 } }\n");
    expect(problems.map(formatProblem)).toEqual([
      NO_FRONTEND_VS,
      "fixtures/istio/canary-scenario.yaml:8:15 warning: policies.payments.split: overrides the split imported from fixtures/istio/canary.yaml",
    ]);
    expect(scenario!.policies["payments"]!.split).toEqual({ v1: 0.5, v2: 0.5 });
    expect(scenario!.policies["payments"]!.routes).toHaveLength(2);
  });

  it("cross-checks of an imported split point into the Istio file", () => {
    const { problems } = canary("  payments: { loadBalancer: peak-ewma }\n");
    expect(problems.map(formatProblem)).toEqual([
      NO_FRONTEND_VS,
      "fixtures/istio/canary.yaml:19:7 spec.http[1].route: a split cannot be combined with loadBalancer peak-ewma: its latency picker does not weigh versions; " +
        "use round-robin, least-request or random",
    ]);
  });
});
