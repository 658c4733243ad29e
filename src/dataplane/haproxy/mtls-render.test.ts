// The sidecar config with mutual TLS between the sidecars (docs/mtls.md).
import { describe, expect, it } from "vitest";
import type { ResolvedPolicy, ResolvedService } from "../../scenario/types.js";
import type { SidecarRenderInput, UpstreamRef } from "../types.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET, SIDECAR_TLS_CA, SIDECAR_TLS_CERT } from "../../plan/types.js";
import { renderHaproxyConfig } from "./render.js";

const policy: ResolvedPolicy = {
  timeoutMs: 2000,
  retries: null,
  circuitBreaker: null,
  outlierDetection: null,
  loadBalancer: "round-robin",
  healthCheck: null,
  rateLimit: null,
  tls: "mutual",
};
const service = (name: string, protocol?: "http2" | "grpc"): ResolvedService => ({
  name,
  replicas: 1,
  calls: [],
  latency: { minMs: 1, maxMs: 1 },
  errorRate: 0,
  port: 8080,
  health: "/healthz",
  ...(protocol ? { protocol } : {}),
});
const upstream = (name: string, p: ResolvedPolicy, tls: boolean, protocol?: "http2" | "grpc"): UpstreamRef => ({
  service: name,
  replicas: [0, 1].map((index) => ({ index, host: `${name}-${index}`, port: tls ? POD_PORTS.mtlsInbound : POD_PORTS.inbound })),
  policy: p,
  ...(protocol ? { protocol } : {}),
  ...(tls ? { tls: "mutual" as const } : {}),
});
const TLS = { certificate: SIDECAR_TLS_CERT, caFile: SIDECAR_TLS_CA };
const input = (over: Partial<SidecarRenderInput> = {}): SidecarRenderInput => ({
  service: service("checkout"),
  index: 0,
  upstreams: [upstream("payments", policy, true)],
  ports: { ...POD_PORTS, app: 8080 },
  adminSocket: SIDECAR_ADMIN_SOCKET,
  seed: 1,
  tls: { ...TLS, inbound: true },
  ...over,
});
function section(text: string, header: string): string[] {
  const found = text.split("\n\n").find((s) => s.startsWith(`${header}\n`) || s.includes(`\n${header}\n`));
  if (!found) throw new Error(`no ${header} in:\n${text}`);
  return found.split("\n").slice(found.startsWith(header) ? 1 : 2).map((l) => l.trim());
}
const withoutLogFormats = (text: string) => text.replace(/^\s*log-format .*$/gm, "");
const MUTUAL = `crt ${SIDECAR_TLS_CERT} ca-file ${SIDECAR_TLS_CA} verify required`;

describe("mutual TLS between sidecars", () => {
  it("reaches an mTLS destination's replicas on their mTLS listener, checking the run's CA and the service's name", () => {
    const { text } = renderHaproxyConfig(input());
    const server = section(text, "listen mq_att_payments_0").find((l) => l.startsWith("server "))!;
    expect(server).toContain(`payments-0:${POD_PORTS.mtlsInbound} `);
    expect(server).toContain(` ssl ${MUTUAL} verifyhost payments`);
    expect(server).not.toContain("proto h2");
    // Connections to the replica stay pooled: one handshake per connection.
    expect(section(text, "listen mq_att_payments_0")).toContain("http-reuse always");
  });

  it("serves the pod's own service on a second inbound listener, same rules as the plaintext one", () => {
    const { text } = renderHaproxyConfig(input());
    const plain = section(text, "frontend mq_inbound");
    const mtls = section(text, "frontend mq_inbound_mtls");
    expect(plain[0]).toBe(`bind 0.0.0.0:${POD_PORTS.inbound}`);
    expect(mtls[0]).toBe(`bind 0.0.0.0:${POD_PORTS.mtlsInbound} ssl ${MUTUAL} alpn h2,http/1.1`);
    // Everything else is the same, except the plaintext listener's refusal of mesh requests.
    const refusal = plain.filter((l) => l.includes("mq_plain") && !l.startsWith("log-format"));
    expect(refusal).toEqual([
      "http-request set-var(txn.mq_plain) str(refused) if { req.hdr(x-mq-from) -m found }",
      'http-request return status 403 content-type text/plain string "meshquake: checkout takes calls from the mesh over mutual TLS only\\n" hdr x-mq-plaintext-refused 1 if { var(txn.mq_plain) -m found }',
    ]);
    expect(plain.slice(1).filter((l) => !refusal.includes(l))).toEqual(mtls.slice(1));
    expect(mtls.find((l) => l.startsWith("log-format"))).toContain('"tls":"%[ssl_fc]","peer":"%[ssl_c_s_dn(CN),json(utf8s)]"');
  });

  it("a caller whose own service is plaintext has a certificate but no mTLS listener, and takes mesh plaintext", () => {
    const { text } = renderHaproxyConfig(input({ tls: { ...TLS, inbound: false } }));
    expect(text).not.toContain("frontend mq_inbound_mtls");
    expect(withoutLogFormats(text)).not.toContain("mq_plain");
    expect(text).toContain(`ssl ${MUTUAL} verifyhost payments`);
  });

  it("renders nothing of TLS without it", () => {
    const { text } = renderHaproxyConfig(input({ tls: null, upstreams: [upstream("payments", { ...policy, tls: "disable" }, false)] }));
    // (Inbound log lines always carry the tls, peer and plain fields: "0", "-", "-" here.)
    expect(withoutLogFormats(text)).not.toMatch(/ssl|crt |ca-file|verifyhost|mq_inbound_mtls|mq_plain/);
    expect(section(text, "listen mq_att_payments_0").find((l) => l.startsWith("server "))).toContain(`payments-0:${POD_PORTS.inbound} `);
  });

  it("mixes plaintext and mTLS destinations per destination", () => {
    const { text } = renderHaproxyConfig(input({ upstreams: [upstream("payments", policy, true), upstream("ledger", { ...policy, tls: "disable" }, false)] }));
    expect(section(text, "listen mq_att_payments_1").find((l) => l.startsWith("server "))).toContain(" ssl ");
    expect(section(text, "listen mq_att_ledger_1").find((l) => l.startsWith("server "))).not.toContain(" ssl ");
  });

  it("speaks HTTP/2 to an h2c destination by ALPN over TLS, and health-checks it over the same TLS in HTTP/1.1", () => {
    const hc = { ...policy, healthCheck: { path: "/healthz", intervalMs: 1000, unhealthyAfter: 2, healthyAfter: 1 } };
    const { text } = renderHaproxyConfig(input({ upstreams: [upstream("payments", hc, true, "grpc")] }));
    const server = section(text, "listen mq_att_payments_0").find((l) => l.startsWith("server "))!;
    expect(server).toContain(`verifyhost payments alpn h2 check inter 1000ms fall 2 rise 1 check-ssl check-alpn http/1.1 check-proto h1`);
    expect(server).not.toContain("proto h2 ");
    // The attempt listener's own bind (an abstract socket from the routing backend) is unchanged.
    expect(section(text, "listen mq_att_payments_0")[0]).toBe("bind abns@mq_att_payments_0 proto h2");
    const http = renderHaproxyConfig(input({ upstreams: [upstream("payments", hc, true)] })).text;
    expect(section(http, "listen mq_att_payments_0").find((l) => l.startsWith("server "))).toMatch(/check-ssl$/);
  });

  it("refuses a mutual-TLS destination without a certificate, and a TLS path that is not one word", () => {
    expect(() => renderHaproxyConfig(input({ tls: null }))).toThrow(/calls to payments are mutual TLS, and the pod has no certificate/);
    expect(() => renderHaproxyConfig(input({ tls: { ...TLS, caFile: "/run/a b.pem", inbound: true } }))).toThrow(/not a plain absolute path/);
  });
});
