import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService } from "../../scenario/types.js";
import type { SidecarRenderInput, UpstreamRef } from "../types.js";
import { POD_PORTS } from "../../plan/types.js";
import { HAPROXY_CONFIG_PATH, renderHaproxyConfig, renderHaproxySidecar } from "./render.js";

const plainPolicy: ResolvedPolicy = {
  timeoutMs: 30_000,
  retries: null,
  circuitBreaker: null,
  outlierDetection: null,
  loadBalancer: "round-robin",
  healthCheck: null,
};

/** The design's example policy for payments. */
const paymentsPolicy: ResolvedPolicy = {
  timeoutMs: 2000,
  retries: {
    attempts: 3,
    perTryTimeoutMs: 300,
    retryOn: ["5xx", "reset", "connect-failure"],
    budget: { ratio: 0.2, minPerSecond: 10, windowMs: 10_000 },
  },
  circuitBreaker: { maxConnections: 100, maxPending: 50 },
  outlierDetection: { consecutive5xx: 5, intervalMs: 1000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 50 },
  loadBalancer: "random",
  healthCheck: { path: "/healthz", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 },
};

const service = (name: string, calls: string[] = []): ResolvedService => ({
  name,
  replicas: 2,
  calls,
  latency: { minMs: 5, maxMs: 5 },
  errorRate: 0,
  port: 8080,
  health: "/healthz",
});

const upstream = (name: string, replicas: number, policy: ResolvedPolicy): UpstreamRef => ({
  service: name,
  replicas: Array.from({ length: replicas }, (_, index) => ({ index, host: `${name}-${index}`, port: POD_PORTS.inbound })),
  policy,
});

const input = (over: Partial<SidecarRenderInput> = {}): SidecarRenderInput => ({
  service: service("checkout", ["payments"]),
  index: 0,
  upstreams: [upstream("payments", 3, paymentsPolicy)],
  ports: { ...POD_PORTS, app: 8080 },
  seed: 42,
  ...over,
});

/** The backend section for one upstream, as lines without indentation. */
function backend(text: string, name: string): string[] {
  const section = text.split("\n\n").find((s) => s.startsWith(`backend ${name}\n`));
  if (!section) throw new Error(`no backend ${name} in:\n${text}`);
  return section.split("\n").slice(1).map((l) => l.trim());
}

describe("renderHaproxySidecar", () => {
  it("renders checkout-0 calling payments (3 replicas, the design's policy)", async () => {
    const r = renderHaproxySidecar(input());
    expect(r.command).toEqual(["haproxy", "-W", "-db", "-f", HAPROXY_CONFIG_PATH]);
    expect(r.files.map((f) => f.path)).toEqual([HAPROXY_CONFIG_PATH]);
    await expect(r.files[0]!.content).toMatchFileSnapshot("__snapshots__/checkout-0.haproxy.cfg");
    expect(r.warnings).toMatchInlineSnapshot(`
      [
        "calls to payments: timeout 2000 ms is not an overall deadline: HAProxy 2.6 bounds each try only, so a request may take up to 3 × 300 ms (plus connect time) across its 3 attempts",
        "calls to payments: retryOn 5xx retries statuses 500-504 only (HAProxy 2.6 cannot retry other 5xx); unlike Envoy's 5xx it does not cover timeout unless listed",
        "calls to payments: circuitBreaker.maxConnections 100 is split per replica as maxconn 34/33/33; HAProxy limits concurrent requests per server and queues the excess",
        "calls to payments: retries.budget is not rendered yet by the haproxy data plane; it has no effect",
        "calls to payments: circuitBreaker.maxPending is not rendered yet by the haproxy data plane; it has no effect",
        "calls to payments: outlierDetection is not rendered yet by the haproxy data plane; it has no effect",
        "calls to payments: healthCheck is not rendered yet by the haproxy data plane; it has no effect",
      ]
    `);
  });

  it("renders a plain proxy for a destination without policy: no retries, round-robin, 30 s", () => {
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, plainPolicy)] }));
    expect(warnings).toEqual([]);
    const lines = backend(text, "payments");
    expect(lines).toContain("balance roundrobin");
    // HAProxy would otherwise retry failed connections 3 times.
    expect(lines).toContain("retries 0");
    expect(lines).toContain("timeout server 30000ms");
    expect(lines).toContain("timeout connect 1000ms");
    expect(lines.some((l) => l.startsWith("retry-on") || l.includes("redispatch") || l.includes("maxconn"))).toBe(false);
  });

  it("maps load balancers and retry conditions", () => {
    const policy: ResolvedPolicy = {
      ...plainPolicy,
      loadBalancer: "least-request",
      retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["timeout", "503", "429"], budget: null },
    };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 1, policy)] }));
    const lines = backend(text, "payments");
    expect(lines).toContain("balance leastconn");
    expect(lines).toContain("retries 1");
    expect(lines).toContain("retry-on response-timeout 503");
    // One replica: nowhere to redispatch to.
    expect(lines).not.toContain("option redispatch 1");
    expect(lines).toContain("timeout server 30000ms");
    expect(warnings).toContain("calls to payments: retryOn 429 cannot be retried by HAProxy 2.6 (allowed statuses: 401, 403, 404, 408, 425, 500, 501, 502, 503, 504); ignored");
    expect(warnings.some((w) => w.includes("not an overall deadline"))).toBe(true);
  });

  it("retries nothing, and says so, when no retry condition is expressible", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, retries: { attempts: 3, perTryTimeoutMs: null, retryOn: ["429"], budget: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    expect(backend(text, "payments")).toContain("retries 0");
    expect(warnings).toContain("calls to payments: retries.attempts 3 with nothing HAProxy can retry on: no request is retried");
  });

  it("caps a per-try timeout longer than the timeout", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, timeoutMs: 500, retries: { attempts: 2, perTryTimeoutMs: 800, retryOn: ["5xx"], budget: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    expect(backend(text, "payments")).toContain("timeout server 500ms");
    expect(warnings[0]).toBe("calls to payments: retries.perTryTimeout 800 ms is longer than timeout 500 ms; each try is cut at 500 ms");
  });

  it("never renders maxconn 0 (unlimited) when the limit is below the replica count", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, circuitBreaker: { maxConnections: 2, maxPending: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 3, policy)] }));
    expect(backend(text, "payments").filter((l) => l.startsWith("server"))).toEqual([
      "server r0 payments-0:15006 maxconn 1",
      "server r1 payments-1:15006 maxconn 1",
      "server r2 payments-2:15006 maxconn 1",
    ]);
    expect(warnings[0]).toContain("maxconn 1/1/1 (3 in all: at least 1 each)");
  });

  it("renders a pod without upstreams: every Host gets the local no-route answer", () => {
    const { text } = renderHaproxyConfig(input({ service: service("payments"), upstreams: [] }));
    expect(text).not.toContain("resolvers");
    expect(text).not.toContain("use_backend");
    expect(text).toContain("default_backend mq_no_route");
    expect(text).toContain("server app 127.0.0.1:8080");
  });

  it("mixes the pod id into the seed the Lua dice use", () => {
    const seedOf = (index: number) => /setenv MQ_POD_SEED (\d+)/.exec(renderHaproxyConfig(input({ index })).text)?.[1];
    expect(seedOf(0)).toBe(seedOf(0));
    expect(seedOf(0)).not.toBe(seedOf(1));
  });

  it("refuses names that are not safe to splice into the config", () => {
    expect(() => renderHaproxyConfig(input({ service: service("check out") }))).toThrow(/"check out" is not a service name/);
    expect(() => renderHaproxyConfig(input({ upstreams: [upstream("pay'ments", 1, plainPolicy)] }))).toThrow(/is not a service name/);
    const badHost = upstream("payments", 1, plainPolicy);
    badHost.replicas[0]!.host = "payments-0:80 backup";
    expect(() => renderHaproxyConfig(input({ upstreams: [badHost] }))).toThrow(/is not a DNS label/);
    expect(() => renderHaproxyConfig(input({ upstreams: [upstream("payments", 1, { ...plainPolicy, timeoutMs: 0 })] }))).toThrow(
      /not a positive duration/,
    );
    expect(() => renderHaproxyConfig(input({ upstreams: [upstream("payments", 0, plainPolicy)] }))).toThrow(/no replicas/);
  });
});
