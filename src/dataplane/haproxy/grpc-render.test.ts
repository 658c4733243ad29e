// The sidecar config for HTTP/2 and gRPC destinations: h2 on every hop, gRPC statuses retried
// through the tunnel, the sidecar's own failures answered as trailers-only gRPC.
import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService } from "../../scenario/types.js";
import type { SidecarRenderInput, UpstreamRef } from "../types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET } from "../../plan/types.js";
import { renderHaproxyConfig } from "./render.js";
import { parseHaproxyEventLine, parseHaproxyLogLine } from "./log.js";

const policy = (over: Partial<ResolvedPolicy> = {}): ResolvedPolicy => ({
  timeoutMs: 2000,
  retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["unavailable", "connect-failure"], budget: null },
  circuitBreaker: null,
  outlierDetection: { consecutive5xx: 3, intervalMs: 1000, baseEjectionTimeMs: 5000, maxEjectionPercent: 0.5 },
  loadBalancer: "round-robin",
  healthCheck: { path: "/healthz", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 },
  rateLimit: null,
  ...over,
});

const service = (protocol?: "http2" | "grpc"): ResolvedService => ({
  name: "checkout",
  replicas: 1,
  calls: ["payments"],
  latency: { minMs: 0, maxMs: 0 },
  errorRate: 0,
  port: 8080,
  health: "/healthz",
  ...(protocol ? { protocol } : {}),
});

const upstream = (p: ResolvedPolicy, protocol?: "http2" | "grpc"): UpstreamRef => ({
  service: "payments",
  replicas: [0, 1].map((index) => ({ index, host: `payments-${index}`, port: POD_PORTS.inbound })),
  policy: p,
  ...(protocol ? { protocol } : {}),
});

const render = (over: Partial<SidecarRenderInput>) =>
  renderHaproxyConfig({
    service: service("grpc"),
    index: 0,
    upstreams: [upstream(policy(), "grpc")],
    ports: { ...POD_PORTS, app: 8080 },
    adminSocket: SIDECAR_ADMIN_SOCKET,
    seed: 1,
    ...over,
  });

function section(text: string, header: string): string[] {
  const found = text.replace(/^#.*\n/, "").split("\n\n").find((s) => s.startsWith(`${header}\n`));
  if (!found) throw new Error(`no ${header} in:\n${text}`);
  return found.split("\n").slice(1).map((l) => l.trim());
}

describe("gRPC and HTTP/2 destinations", () => {
  it("speaks h2 to the app, to the attempt listener and to the replica's sidecar", () => {
    const { text } = render({});
    expect(section(text, "backend mq_app")).toContain("server app 127.0.0.1:8080 proto h2");
    expect(section(text, "backend mq_app")).not.toContain("option http-server-close");
    expect(section(text, "backend payments").filter((l) => l.startsWith("server "))).toEqual([
      expect.stringMatching(/^server r0 abns@\S+ .*proto h2$/),
      expect.stringMatching(/^server r1 abns@\S+ .*proto h2$/),
    ]);
    const attempt = section(text, "listen mq_att_payments_0");
    expect(attempt[0]).toMatch(/^bind abns@\S+ proto h2$/);
    expect(attempt.at(-1)).toMatch(/ proto h2 check .* check-proto h1$/);
    // The pod's Lua answers gRPC.
    expect(section(text, "global")).toContain("setenv MQ_PROTOCOL grpc");
  });

  it("retries the gRPC statuses retryOn names through the tunnel, after the escape of a replica's own 425", () => {
    const attempt = section(render({}).text, "listen mq_att_payments_0");
    const retry = attempt.indexOf("http-response set-status 425 if { var(txn.mq_gs) -m int 14 }");
    expect(retry).toBeGreaterThan(attempt.indexOf("http-response set-status 400 if { status 425 }"));
    expect(attempt).toContain("http-response set-var(txn.mq_gfail) int(1) if { var(txn.mq_gs) -m int 2 4 12 13 14 15 }");
    const routing = section(render({}).text, "backend payments");
    expect(routing).toContain("retry-on 425");
    expect(routing).toContain("http-response set-status 200 if { res.hdr(grpc-status) -m found }");
  });

  it("answers its own failures to a gRPC caller as trailers-only gRPC, with no body", () => {
    const { text } = render({});
    const attempt = section(text, "listen mq_att_payments_0");
    for (const line of attempt.filter((l) => l.startsWith("http-error"))) {
      expect(line).not.toContain("string");
      expect(line).toMatch(/^http-error status 50[234] hdr x-mq-local/);
    }
    const routing = section(text, "backend payments");
    expect(routing).toContain("http-response set-header grpc-status 14 if { var(txn.mq_local) -m str connect-failure reset }");
    expect(routing).toContain("http-response set-header grpc-status 4 if { var(txn.mq_local) -m str per-try-timeout overall-timeout }");
  });

  it("warns that HTTP conditions do not retry gRPC failures and that trailers are not read", () => {
    const { warnings } = render({ upstreams: [upstream(policy({ retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx", "unavailable"], budget: null } }), "grpc")] });
    expect(warnings.map((w) => w.id)).toEqual(expect.arrayContaining(["grpc-retry-http-status", "grpc-retry-trailers"]));
  });

  it("an http2 destination gets h2 hops and no gRPC rules", () => {
    const { text } = render({ service: service("http2"), upstreams: [upstream(policy({ retries: { attempts: 2, perTryTimeoutMs: null, retryOn: ["5xx"], budget: null } }), "http2")] });
    expect(section(text, "backend mq_app")).toContain("server app 127.0.0.1:8080 proto h2");
    expect(text).not.toContain("grpc-status");
    expect(section(text, "global")).not.toContain("setenv MQ_PROTOCOL grpc");
  });

  it("an http destination is unchanged: no h2, no gRPC rules", () => {
    const { text } = render({ service: service(), upstreams: [upstream(policy({ retries: null }))] });
    expect(text).not.toContain("proto h2");
    expect(text).not.toContain("grpc");
  });
});

describe("gRPC statuses in the sidecar logs", () => {
  const outbound = (gs: string) =>
    `{"mq":1,"pod":"checkout-0","ts":"1796677142.691","t0":"1796677142704","dir":"outbound","route":"payments","host":"payments","from":"checkout","from_replica":"0","srv":"r1","status":200,"Ta":5,"Tw":0,"Tc":0,"Tr":5,"retries":"1","term":"----","bytes":210,"fault":"-","gs":"${gs}","id":"checkout-0.1","xid":"x-1","max":"2","cause":"-","local":"-","budget":"-"}`;

  it("reads a gRPC failure as the HTTP status it stands for, keeping its gRPC status", () => {
    const e = parseHaproxyLogLine(outbound("14"))!;
    expect(e.status).toBe(503);
    expect(e.grpcStatus).toBe(14);
    expect(e.cause).toBe("retries-exhausted");
    const ok = parseHaproxyLogLine(outbound("0"))!;
    expect(ok.status).toBe(200);
    expect(ok.grpcStatus).toBe(0);
    expect(ok.cause).toBe("ok");
    expect(parseHaproxyLogLine(outbound("-"))!.grpcStatus).toBeUndefined();
    expect(parseHaproxyLogLine(outbound("99"))!.grpcStatus).toBeUndefined();
  });

  it("reads a try sent back through the tunnel by its gRPC status", () => {
    const line =
      '{"mq":1,"pod":"checkout-0","ts":"1796677142.715","t0":"1796677142715","dir":"attempt","route":"payments","replica":0,"id":"checkout-0.1","srv":"r0","status":425,"Ta":9,"Tr":9,"term":"----","local":"-","fault":"ab","gs":"14","ra":"-","rar":"-","raat":"-","wait":"-"}';
    const a = parseHaproxyEventLine(line);
    expect(a).toMatchObject({ kind: "attempt", status: 503, grpcStatus: 14 });
  });
});
