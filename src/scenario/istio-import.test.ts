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
      `fixtures/istio/virtualservice.yaml:22:18 warning: spec.http[0].retries.retryOn: retryOn "refused-stream" is not imported: an HTTP/2 ` +
        "REFUSED_STREAM cannot happen on meshquake's HTTP/1.1 hops",
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
      `retryOn "cancelled" is not imported: a gRPC status; meshquake meshes HTTP/1.1`,
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
      "vs.yaml:8:7 warning: spec.http[0]: route http[0] is not imported: meshquake applies one policy per destination, and takes http[1] for it",
      "vs.yaml:10:14 warning: spec.http[1].route: traffic split across destinations is not modelled: each destination gets this route's policy, and load is not weighted",
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
    expect(r.problems.map((p) => `${p.line}:${p.col} ${p.path}`)).toEqual([
      "6:3 spec.subsets",
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
