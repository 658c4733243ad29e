import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService, RetryOn } from "../../scenario/types.js";
import type { SidecarRenderInput, UpstreamRef } from "../types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET } from "../../plan/types.js";
import type { DataPlaneWarning } from "../types.js";
import { HAPROXY_CONFIG_PATH, renderHaproxyConfig as renderConfig, renderHaproxySidecar } from "./render.js";

/** A warning as the plan words it for one caller ("calls to payments: …"). */
const said = (w: DataPlaneWarning) => `calls to ${w.upstream}: ${w.message}`;

/** renderHaproxyConfig with its warnings as text, and as they are (id and field). */
function renderHaproxyConfig(...args: Parameters<typeof renderConfig>) {
  const r = renderConfig(...args);
  return { text: r.text, warnings: r.warnings.map(said), raw: r.warnings };
}

const plainPolicy: ResolvedPolicy = {
  timeoutMs: 30_000,
  retries: null,
  circuitBreaker: null,
  outlierDetection: null,
  loadBalancer: "round-robin",
  healthCheck: null,
  rateLimit: null,
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
  outlierDetection: { consecutive5xx: 5, intervalMs: 1000, baseEjectionTimeMs: 10_000, maxEjectionPercent: 0.5 },
  loadBalancer: "random",
  healthCheck: { path: "/healthz", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 },
  rateLimit: null,
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
  adminSocket: SIDECAR_ADMIN_SOCKET,
  seed: 42,
  ...over,
});

/** A section of the config, as lines without indentation. */
function section(text: string, header: string): string[] {
  const found = text
    .replace(/^#.*\n/, "")
    .split("\n\n")
    .find((s) => s.startsWith(`${header}\n`));
  if (!found) throw new Error(`no ${header} in:\n${text}`);
  return found.split("\n").slice(1).map((l) => l.trim());
}
const backend = (text: string, name: string) => section(text, `backend ${name}`);
const listen = (text: string, name: string) => section(text, `listen ${name}`);

describe("renderHaproxySidecar", () => {
  it("renders checkout-0 calling payments (3 replicas, the design's policy)", async () => {
    const r = renderHaproxySidecar(input());
    expect(r.command).toEqual(["sh", "-c", `if [ -n "\${MQ_ACCESS_LOG:-}" ]; then exec 3>>"$MQ_ACCESS_LOG"; else exec 3>&1; fi; exec haproxy -W -db -f ${HAPROXY_CONFIG_PATH}`]);
    expect(r.accessLogEnv).toBe("MQ_ACCESS_LOG");
    expect(r.files.map((f) => f.path)).toEqual([HAPROXY_CONFIG_PATH]);
    await expect(r.files[0]!.content).toMatchFileSnapshot("__snapshots__/checkout-0.haproxy.cfg");
    expect(r.warnings.map((w) => `${w.id} ${w.field}`)).toEqual([
      "retry-5xx-statuses retries.retryOn",
      "retry-previous-host retries.attempts",
      "retry-budget-at-start retries.budget",
      "breaker-per-replica circuitBreaker.maxConnections",
      "ejection-with-health-check outlierDetection",
    ]);
    expect(r.warnings.map(said)).toMatchInlineSnapshot(`
      [
        "calls to payments: retryOn 5xx retries replica statuses 500-504 only (HAProxy 2.6 cannot retry other 5xx)",
        "calls to payments: each retry avoids the replica the previous try used, not every replica tried before: with 3 attempts a later retry may return to an earlier replica (Envoy's previous_hosts avoids them all)",
        "calls to payments: retries.budget is checked when a request starts: one admitted while budget remains may still use all 2 of its retries, so retries can overshoot ratio × requests + minPerSecond × window by a few; rates are HAProxy's sliding estimates over 10000 ms",
        "calls to payments: circuitBreaker.maxConnections 100 is split per replica as maxconn 34/33/33; HAProxy limits concurrent requests per server and queues the excess",
        "calls to payments: outlierDetection with healthCheck: an ejected replica stays out until its ejection time ends, even if its health checks pass (Envoy re-admits it on the next passing check)",
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
    // The attempt listener cuts each try at the timeout; the routing backend only backs it up.
    expect(listen(text, "mq_att_payments_0")).toContain("timeout server 30000ms");
    expect(lines).toContain("timeout server 31000ms");
    expect(lines.some((l) => l.startsWith("retry-on") || l.includes("redispatch") || l.includes("maxconn"))).toBe(false);
    // policy.lua still keeps each routing server in step with its replica's DNS state.
    expect(section(text, "global")).toContain('setenv MQ_REPLICAS "payments:0.1"');
    expect(text).not.toContain("MQ_OUTLIER");
    expect(text).not.toContain("lua.mq_attempt");
  });

  it("maps load balancers and retry conditions", () => {
    const policy: ResolvedPolicy = {
      ...plainPolicy,
      loadBalancer: "least-request",
      retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["timeout", "503", "404"], budget: null },
    };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 1, policy)] }));
    const lines = backend(text, "payments");
    expect(lines).toContain("balance leastconn");
    expect(lines).toContain("retries 1");
    // Per-try timeouts come back from the attempt listener as the retryable 425.
    expect(lines).toContain("retry-on 404 503 425");
    // One replica: nowhere to redispatch to.
    expect(lines).not.toContain("option redispatch 1");
    expect(listen(text, "mq_att_payments_0")).toContain("timeout server 30000ms");
    expect(warnings.some((w) => w.includes("leastconn"))).toBe(true);
  });

  it("retries nothing, and says so, when no retry condition is expressible", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, retries: { attempts: 3, perTryTimeoutMs: null, retryOn: ["418"], budget: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    expect(backend(text, "payments")).toContain("retries 0");
    expect(warnings).toContain("calls to payments: retries.attempts 3 with nothing HAProxy can retry on: no request is retried");
  });

  it("retries a 429 through the tunnel, after its Retry-After, and restores it when no retry is left", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, timeoutMs: 3000, retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["429"], budget: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    const routing = backend(text, "payments");
    expect(routing).toContain("retries 1");
    expect(routing).toContain("retry-on 425");
    expect(routing).toContain("http-response set-status 429 if { res.hdr(x-mq-retry-after) -m found }");
    expect(routing).toContain("http-response del-header x-mq-retry-after");
    const att = listen(text, "mq_att_payments_0");
    // The wait comes before the try's start time is taken, so the deadline counts from the real start.
    expect(att.indexOf("http-request lua.mq_retry_wait")).toBeLessThan(att.indexOf("http-request set-var(txn.mq_t0) date(0,ms)"));
    expect(att).toContain("http-request set-var(txn.mq_deadline) req.hdr(x-mq-deadline)");
    // A replica cannot mark its own answer for a retry; the listener marks a 429 only after retry_after.lua agreed.
    expect(att.indexOf("http-response del-header x-mq-retry-after")).toBeLessThan(att.indexOf("http-response lua.mq_retry_after if { status 429 }"));
    const marked = att.indexOf("http-response set-header x-mq-retry-after 1 if { var(txn.mq_ra_retry) -m found }");
    expect(marked).toBeGreaterThan(att.indexOf("http-response lua.mq_retry_after if { status 429 }"));
    expect(att[marked + 1]).toBe("http-response set-status 425 if { var(txn.mq_ra_retry) -m found }");
    // A replica's own 425 is escaped before, so it is never taken for a 429.
    expect(att.indexOf("http-response set-status 400 if { status 425 }")).toBeLessThan(marked);
    expect(section(text, "global")).toContain("lua-load /usr/local/lib/meshquake/haproxy/retry_after.lua");
    expect(warnings).toEqual([
      "calls to payments: retryOn 429 retries only a 429 whose Retry-After is delta-seconds and ends before the timeout, after waiting it out in " +
        "this sidecar (an HTTP-date or a missing Retry-After is not retried); Envoy's rate_limited_retry_back_off also falls back to its back-off",
    ]);
  });

  it("leaves 429 alone when retryOn does not name it", () => {
    const { text } = renderHaproxyConfig(input());
    expect(text).not.toContain("mq_retry_wait");
    expect(text).not.toContain("mq_retry_after");
    expect(backend(text, "payments")).not.toContain("http-response set-status 429 if { res.hdr(x-mq-retry-after) -m found }");
  });

  it("limits the pod's own inbound requests with a token bucket, health checks exempt", () => {
    const { text } = renderHaproxyConfig(input({ rateLimit: { requestsPerSecond: 12.5, burst: 3 } }));
    const inbound = section(text, "frontend mq_inbound");
    const limit = inbound.indexOf("http-request lua.mq_ratelimit 12.5 3 unless { var(txn.mq_check) -m found }");
    expect(limit).toBeGreaterThan(inbound.indexOf("http-request set-var(txn.mq_check) req.hdr(x-mq-check)"));
    // Before the faults: a refused request never reaches the replica.
    expect(limit).toBeLessThan(inbound.indexOf("http-request lua.mq_fault"));
    expect(section(text, "global")).toContain("lua-load /usr/local/lib/meshquake/haproxy/ratelimit.lua");
    expect(renderHaproxyConfig(input()).text).not.toContain("lua.mq_ratelimit");
    expect(() => renderHaproxyConfig(input({ rateLimit: { requestsPerSecond: 10, burst: 0 } }))).toThrow(/rateLimit.burst: 0 is not an integer/);
    expect(() => renderHaproxyConfig(input({ rateLimit: { requestsPerSecond: Number.NaN, burst: 1 } }))).toThrow(/requestsPerSecond NaN/);
  });

  it("caps a per-try timeout longer than the timeout", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, timeoutMs: 500, retries: { attempts: 2, perTryTimeoutMs: 800, retryOn: ["5xx"], budget: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    expect(listen(text, "mq_att_payments_1")).toContain("timeout server 500ms");
    expect(warnings[0]).toBe("calls to payments: retries.perTryTimeout 800 ms is longer than timeout 500 ms; each try is cut at 500 ms");
  });

  it("never renders maxconn 0 (unlimited) when the limit is below the replica count", () => {
    const policy: ResolvedPolicy = { ...plainPolicy, circuitBreaker: { maxConnections: 2, maxPending: null } };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 3, policy)] }));
    expect(backend(text, "payments").filter((l) => l.startsWith("server"))).toEqual([
      "server r0 abns@mq_att_payments_0 maxconn 1",
      "server r1 abns@mq_att_payments_1 maxconn 1",
      "server r2 abns@mq_att_payments_2 maxconn 1",
    ]);
    expect(warnings[0]).toContain("maxconn 1/1/1 (3 in all: at least 1 each)");
  });

  it("routes every try through a per-replica attempt listener that logs it and enforces the deadline", () => {
    const { text } = renderHaproxyConfig(input());
    expect(backend(text, "payments")).toContain("http-request set-header x-mq-deadline %[date(0,ms),add(2000)]");
    const att = listen(text, "mq_att_payments_2");
    expect(att).toContain("bind abns@mq_att_payments_2");
    expect(att).toContain("retries 0");
    expect(att).toContain("timeout server 300ms");
    expect(att).toContain("http-request set-timeout server var(txn.mq_left) if { var(txn.mq_cut) -m str overall-timeout }");
    // A replica cannot pass its answer off as the sidecar's own failure.
    expect(att.indexOf("http-response del-header x-mq-local")).toBeLessThan(att.findIndex((l) => l.startsWith("http-after-response")));
    expect(att.find((l) => l.startsWith("log-format"))).toContain('"dir":"attempt","route":"payments","replica":2');
    expect(att.at(-1)).toBe("server r2 payments-2:15006 resolvers mq_docker resolve-prefer ipv4 init-addr last,libc,none check inter 1000ms fall 2 rise 1");
    // The outbound frontend names each request; its tries carry the id.
    expect(section(text, "frontend mq_outbound")).toContain("unique-id-format checkout-0.%rt");
  });

  it("retries exactly the failures retryOn names, whether the replica answered or not", () => {
    const retryOn = (on: RetryOn[]) => {
      const policy: ResolvedPolicy = { ...plainPolicy, retries: { attempts: 2, perTryTimeoutMs: 100, retryOn: on, budget: null } };
      const { text } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
      const att = listen(text, "mq_att_payments_0");
      return {
        retryOn: backend(text, "payments").find((l) => l.startsWith("retry-on")),
        local: Object.fromEntries(
          att.flatMap((l) => {
            const m = /^http-after-response set-status (\d+) if \{ var\(txn.mq_local\) -m str ([a-z-]+) \}$/.exec(l);
            return m ? [[m[2], Number(m[1])]] : [];
          }),
        ),
        escapes: att.some((l) => l.startsWith("http-response set-header x-mq-escaped")),
      };
    };
    // A replica's own 503 is retried; a refused connection, a reset or a timed-out try is not.
    expect(retryOn(["503"])).toEqual({
      retryOn: "retry-on 503",
      local: { "connect-failure": 599, reset: 599, "per-try-timeout": 599, "overall-timeout": 599 },
      escapes: false,
    });
    // Only the unreachable replica is retried, and a replica's own 425 is kept from looking like one.
    expect(retryOn(["connect-failure"])).toEqual({
      retryOn: "retry-on 425",
      local: { "connect-failure": 425, reset: 599, "per-try-timeout": 599, "overall-timeout": 599 },
      escapes: true,
    });
    // Envoy's reset covers connection failures and timed-out tries too; nothing retries past the overall timeout.
    expect(retryOn(["reset"]).local).toEqual({ "connect-failure": 425, reset: 425, "per-try-timeout": 425, "overall-timeout": 599 });
    expect(retryOn(["timeout"]).local).toEqual({ "connect-failure": 599, reset: 599, "per-try-timeout": 425, "overall-timeout": 599 });
    expect(retryOn(["5xx"]).retryOn).toBe("retry-on 500 501 502 503 504 425");
  });

  it("renders the retry budget as request and try rates in one stick table", () => {
    const { text } = renderHaproxyConfig(input());
    const lines = backend(text, "payments");
    expect(lines).toContain("http-request track-sc0 str(payments) table mq_budget_payments");
    // retries ≥ 0.2 × requests + 10/s × 10 s  ⇔  tries ≥ 1.2 × requests + 100
    expect(lines).toContain("http-request set-var(txn.mq_ballow) var(txn.mq_breq),mul(1200),div(1000),add(100)");
    expect(lines).toContain("http-request disable-l7-retry if { var(txn.mq_budget) -m found }");
    expect(listen(text, "mq_att_payments_1")).toContain("http-request sc-inc-gpc(0,0)");
    expect(backend(text, "mq_budget_payments")).toEqual([
      "stick-table type string len 64 size 16 expire 20000ms store gpc(2),gpc_rate(2,10000)",
    ]);
  });

  it("refuses a request over maxPending with a fast, marked 503", () => {
    const { text } = renderHaproxyConfig(input());
    const lines = backend(text, "payments");
    expect(lines).toContain("http-request set-var(txn.mq_cause) str(overflow) if { queue(payments) ge 50 }");
    expect(lines.find((l) => l.startsWith("http-request return status 503"))).toContain("hdr x-mq-overflow 1 if { var(txn.mq_cause) -m str overflow }");
    expect(lines).toContain("timeout queue 2000ms");
  });

  it("hands outlier detection and health events to policy.lua, and lets the routing servers track the checks", () => {
    const { text } = renderHaproxyConfig(input());
    const global = section(text, "global");
    expect(global).toContain('setenv MQ_REPLICAS "payments:0.1.2"');
    expect(global).toContain('setenv MQ_OUTLIER "payments:5:1000:10000:50:300000"');
    expect(global).toContain('setenv MQ_HEALTH "payments"');
    expect(global.at(-1)).toBe("lua-load /usr/local/lib/meshquake/haproxy/policy.lua");
    expect(listen(text, "mq_att_payments_0")).toContain("http-after-response set-var(txn.mq_od) lua.mq_attempt(payments,0)");
    expect(listen(text, "mq_att_payments_0")).toContain(
      "http-check send meth GET uri /healthz ver HTTP/1.1 hdr host payments hdr x-mq-check checkout",
    );
    expect(backend(text, "payments")).toContain("server r1 abns@mq_att_payments_1 maxconn 33 track mq_att_payments_1/r1");
  });

  it("says out loud what it cannot express", () => {
    const policy: ResolvedPolicy = {
      ...plainPolicy,
      retries: { attempts: 0, perTryTimeoutMs: null, retryOn: ["5xx"], budget: { ratio: 0.2, minPerSecond: 1, windowMs: 1000 } },
      circuitBreaker: { maxConnections: null, maxPending: 0 },
    };
    const { text, warnings } = renderHaproxyConfig(input({ upstreams: [upstream("payments", 2, policy)] }));
    expect(backend(text, "payments")).toContain("retries 0");
    expect(warnings).toEqual([
      "calls to payments: retries.attempts 0 is read as a single try (attempts counts every try, the first included)",
      "calls to payments: circuitBreaker.maxPending has no effect without maxConnections: nothing ever waits for a connection",
      "calls to payments: retries.budget has nothing to limit: no request is retried",
    ]);
    const zero = renderHaproxyConfig(
      input({ upstreams: [upstream("payments", 2, { ...plainPolicy, circuitBreaker: { maxConnections: 2, maxPending: 0 } })] }),
    );
    expect(zero.warnings).toContain("calls to payments: circuitBreaker.maxPending 0 behaves as 1: HAProxy can only refuse a request while another one waits");
    expect(backend(zero.text, "payments")).toContain("http-request set-var(txn.mq_cause) str(overflow) if { queue(payments) ge 1 }");
  });

  it("renders a pod without upstreams: every Host gets the local no-route answer", () => {
    const { text } = renderHaproxyConfig(input({ service: service("payments"), upstreams: [] }));
    expect(text).not.toContain("resolvers");
    expect(text).not.toContain("policy.lua");
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
    const badPath = { ...plainPolicy, healthCheck: { path: "/health z", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 } };
    expect(() => renderHaproxyConfig(input({ upstreams: [upstream("payments", 1, badPath)] }))).toThrow(/is not an HTTP path/);
  });
});
