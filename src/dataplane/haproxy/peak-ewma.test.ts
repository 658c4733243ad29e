import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService } from "../../scenario/types.js";
import type { SidecarRenderInput, UpstreamRef } from "../types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET } from "../../plan/types.js";
import { LINKERD_PEAK_EWMA, peakEwmaWord } from "./peak-ewma.js";
import { renderHaproxyConfig } from "./render.js";

const plain: ResolvedPolicy = { timeoutMs: 30_000, retries: null, circuitBreaker: null, outlierDetection: null, loadBalancer: "peak-ewma", healthCheck: null, rateLimit: null };
const full: ResolvedPolicy = {
  timeoutMs: 2000,
  retries: { attempts: 3, perTryTimeoutMs: 300, retryOn: ["5xx", "reset", "connect-failure"], budget: null },
  circuitBreaker: { maxConnections: 6, maxPending: 2 },
  outlierDetection: { consecutive5xx: 5, intervalMs: 1000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 0.5 },
  loadBalancer: "peak-ewma",
  healthCheck: { path: "/healthz", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 },
  rateLimit: null,
};

const service: ResolvedService = { name: "checkout", replicas: 1, calls: ["payments", "ledger"], latency: { minMs: 1, maxMs: 1 }, errorRate: 0, port: 8080, health: "/healthz" };
const upstream = (name: string, replicas: number, policy: ResolvedPolicy): UpstreamRef => ({
  service: name,
  replicas: Array.from({ length: replicas }, (_, index) => ({ index, host: `${name}-${index}`, port: POD_PORTS.inbound })),
  policy,
});
const input = (upstreams: UpstreamRef[]): SidecarRenderInput => ({
  service,
  index: 0,
  upstreams,
  ports: { ...POD_PORTS, app: 8080 },
  adminSocket: SIDECAR_ADMIN_SOCKET,
  seed: 1,
});

function section(text: string, header: string): string[] {
  const found = text.split("\n\n").find((s) => s.replace(/^#.*\n/, "").startsWith(`${header}\n`));
  if (!found) throw new Error(`no ${header} in:\n${text}`);
  return found.replace(/^#.*\n/, "").split("\n").slice(1).map((l) => l.trim());
}

describe("loadBalancer: peak-ewma in the HAProxy sidecar", () => {
  it("loads ewma.lua with Linkerd's decay and default RTT, only for the destinations that ask for it", () => {
    const { text } = renderHaproxyConfig(input([upstream("payments", 3, full), upstream("ledger", 2, { ...plain, loadBalancer: "round-robin" })]));
    const global = section(text, "global");
    expect(global).toContain('setenv MQ_EWMA "payments:0.1.2:10000:30000"');
    expect(global.at(-1)).toBe("lua-load /usr/local/lib/meshquake/haproxy/ewma.lua");
    expect(peakEwmaWord({ service: "a", replicas: [0, 2], healthChecked: false, limited: false })).toBe(
      `a:0.2:${LINKERD_PEAK_EWMA.decayMs}:${LINKERD_PEAK_EWMA.defaultRttMs * 1000}`,
    );
    const ledger = section(text, "backend ledger");
    expect(ledger).toContain("balance roundrobin");
    expect(ledger.some((l) => l.includes("ewma") || l.startsWith("use-server"))).toBe(false);
    expect(section(text, "listen mq_att_ledger_0").some((l) => l.includes("ewma"))).toBe(false);
  });

  it("renders no ewma.lua at all when no destination balances by peak-ewma", () => {
    const { text } = renderHaproxyConfig(input([upstream("payments", 3, { ...full, loadBalancer: "random" })]));
    expect(text).not.toContain("ewma");
  });

  it("picks the first try in Lua among usable replicas and routes to it with use-server", () => {
    const { text } = renderHaproxyConfig(input([upstream("payments", 3, full)]));
    const lines = section(text, "backend payments");
    expect(lines[0]).toBe("balance random(2)");
    // Usable: up in the routing backend (not ejected or unresolved), its health check passing
    // (asked of the checked server: a tracking server's srv_is_up ignores the check), below maxconn.
    expect(lines).toContain(
      "http-request set-var(txn.mq_inflight_1) srv_conn(payments/r1) if { srv_is_up(payments/r1) } { srv_is_up(mq_att_payments_1/r1) } { srv_conn_free(payments/r1) gt 0 }",
    );
    const pick = lines.indexOf("http-request set-var(txn.mq_pick) lua.mq_ewma_pick(payments)");
    expect(pick).toBeGreaterThan(lines.findIndex((l) => l.startsWith("http-request set-var(txn.mq_inflight_2)")));
    // The breaker refuses an overflowing request before anything is picked for it.
    expect(pick).toBeGreaterThan(lines.findIndex((l) => l.startsWith("http-request return status 503")));
    expect(lines.slice(pick + 1, pick + 4)).toEqual([0, 1, 2].map((i) => `use-server r${i} if { var(txn.mq_pick) -m str r${i} }`));
    // Retries still redispatch to another replica.
    expect(lines).toContain("option redispatch 1");
  });

  it("asks only what applies: no health or maxconn condition without health checks or a breaker", () => {
    const { text, warnings } = renderHaproxyConfig(input([upstream("payments", 2, plain)]));
    expect(section(text, "backend payments")).toContain("http-request set-var(txn.mq_inflight_0) srv_conn(payments/r0) if { srv_is_up(payments/r0) }");
    // No retries: nothing for the fallback balance to choose but a request with no usable replica.
    expect(warnings.filter((w) => w.id === "peak-ewma-retries-by-load")).toEqual([]);
  });

  it("times every try in its attempt listener and feeds the estimate after the local failure is known", () => {
    const { text, warnings } = renderHaproxyConfig(input([upstream("payments", 3, full)]));
    const att = section(text, "listen mq_att_payments_2");
    expect(att).toContain("http-request set-var(txn.mq_ewma_t0) date(0,us)");
    const local = att.indexOf("http-after-response set-var(txn.mq_local) res.hdr(x-mq-local)");
    const t1 = att.indexOf("http-after-response set-var(txn.mq_ewma_t1) date(0,us)");
    const observe = att.indexOf("http-after-response set-var(txn.mq_ewma) lua.mq_ewma_observe(payments,2)");
    expect(local).toBeGreaterThanOrEqual(0);
    expect(t1).toBeGreaterThan(local);
    expect(observe).toBe(t1 + 1);
    expect(warnings.map((w) => `${w.id} ${w.field}: ${w.message}`)).toContain(
      "peak-ewma-retries-by-load loadBalancer: loadBalancer peak-ewma picks each request's first try by latency; a retry goes to another replica chosen by HAProxy's random(2) (fewer requests in flight of two), not by latency",
    );
  });
});
