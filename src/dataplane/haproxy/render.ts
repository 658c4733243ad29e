// Renders one pod's HAProxy 2.6 sidecar config from the mesh-neutral policy. Pure: no I/O.
// The config is built from small sections; every scenario-derived value passes a check from
// names.ts before it is written. Capabilities and traps referenced here are measured in
// shared/HAPROXY.md (cited as "HAPROXY.md §n").
import type { ResolvedPolicy } from "../../scenario/types.js";
import type { SidecarRenderInput, SidecarRendering, UpstreamRef } from "../types.js";
import { inboundLogFormat, outboundLogFormat } from "./log.js";
import { HaproxyInputError, PROXY, durationMs, hostName, integer, port, serviceName } from "./names.js";
import { podSeed } from "./seed.js";

export const HAPROXY_CONFIG_PATH = "/etc/meshquake/haproxy.cfg";
/** Where the image bakes images/haproxy/ (see images/Dockerfile). */
export const HAPROXY_SUPPORT_DIR = "/usr/local/lib/meshquake/haproxy";
/** Docker's embedded DNS on user-defined networks: finds a restarted replica's new address. */
export const DOCKER_DNS = "127.0.0.11:53";

/** Status of the local answer for a Host the pod has no route to (logged like any request). */
export const NO_ROUTE_STATUS = 421;

/**
 * The policy has no connect timeout. Connecting on a local bridge takes well under a millisecond,
 * so this only matters for a replica that is gone; Envoy's default (5 s) would stall every such
 * attempt. Also the turn-around delay before retrying a failed connect (HAPROXY.md §1).
 */
export const CONNECT_TIMEOUT_CAP_MS = 1000;
/** The inbound hop never cuts a request short: the caller's policy owns the deadline. */
const INBOUND_TIMEOUT_MS = 300_000;
/** HAProxy's `retry-on` accepts only these statuses (HAPROXY.md §1). */
const RETRYABLE_STATUSES = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504] as const;

export interface HaproxyRenderOptions {
  /** Directory holding faults.lua; a local haproxy run points it at images/haproxy. */
  supportDir?: string;
}

interface Section {
  header: string;
  lines: string[];
}

export function renderHaproxySidecar(input: SidecarRenderInput, options: HaproxyRenderOptions = {}): SidecarRendering {
  const { text, warnings } = renderHaproxyConfig(input, options);
  return {
    files: [{ path: HAPROXY_CONFIG_PATH, content: text }],
    command: ["haproxy", "-W", "-db", "-f", HAPROXY_CONFIG_PATH],
    warnings,
  };
}

export function renderHaproxyConfig(input: SidecarRenderInput, options: HaproxyRenderOptions = {}): { text: string; warnings: string[] } {
  const service = serviceName("service", input.service.name);
  const index = integer(`${service}: replica index`, input.index, 0, 9999);
  const pod = `${service}-${index}`;
  const ports = {
    admin: port(`${pod}: admin port`, input.ports.admin),
    outbound: port(`${pod}: outbound port`, input.ports.outbound),
    inbound: port(`${pod}: inbound port`, input.ports.inbound),
    app: port(`${pod}: app port`, input.ports.app),
  };
  const seed = integer(`${pod}: seed`, input.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const supportDir = options.supportDir ?? HAPROXY_SUPPORT_DIR;
  if (!/^\/[A-Za-z0-9._/-]*$/.test(supportDir)) throw new HaproxyInputError(`supportDir: "${supportDir}" is not a plain absolute path`);

  const seen = new Set<string>();
  for (const up of input.upstreams) {
    serviceName(`${pod}: upstream`, up.service);
    if (seen.has(up.service)) throw new HaproxyInputError(`${pod}: upstream ${up.service} is listed twice`);
    seen.add(up.service);
  }
  const upstreams = input.upstreams.map(upstreamBackend);

  const sections = [
    globalSection(pod, podSeed(seed, pod), ports.admin, supportDir),
    defaultsSection(),
    ...(input.upstreams.length > 0 ? [resolversSection()] : []),
    outboundFrontend(service, index, pod, ports.outbound, input.upstreams),
    ...upstreams.map((u) => u.section),
    noRouteBackend(),
    inboundFrontend(service, pod, ports.inbound),
    appBackend(ports.app),
  ];
  return { text: formatConfig(pod, sections), warnings: upstreams.flatMap((u) => u.warnings) };
}

function formatConfig(pod: string, sections: Section[]): string {
  const head = `# meshquake sidecar for ${pod} (HAProxy 2.6), rendered by src/dataplane/haproxy/render.ts\n`;
  return head + sections.map((s) => [s.header, ...s.lines.map((l) => `  ${l}`)].join("\n")).join("\n\n") + "\n";
}

function globalSection(pod: string, seed: bigint, adminPort: number, supportDir: string): Section {
  return {
    header: "global",
    lines: [
      "log stdout format raw local0",
      // One thread: the Lua fault table is one shared state, and request order stays replayable.
      "nbthread 1",
      // No global maxconn: HAProxy derives it from the container's open-files limit, and a
      // fixed value above what that limit allows is a fatal start-up error.
      "hard-stop-after 2s",
      // One command per connection, from the harness through a port published on 127.0.0.1.
      `stats socket ipv4@0.0.0.0:${adminPort} level admin`,
      // Read by faults.lua at load time, so set before lua-load.
      `setenv MQ_POD ${pod}`,
      `setenv MQ_POD_SEED ${seed}`,
      `lua-load ${supportDir}/faults.lua`,
    ],
  };
}

function defaultsSection(): Section {
  return {
    header: "defaults",
    lines: [
      "mode http",
      "log global",
      // Connections that never send a request (port probes) are not requests: no log line.
      "option dontlognull",
      `timeout connect ${CONNECT_TIMEOUT_CAP_MS}ms`,
      `timeout client ${INBOUND_TIMEOUT_MS}ms`,
      `timeout server ${INBOUND_TIMEOUT_MS}ms`,
      "timeout http-request 30s",
      // Longer than any caller keeps an idle pooled connection, so a reused one is never stale.
      "timeout http-keep-alive 120s",
    ],
  };
}

function resolversSection(): Section {
  return {
    header: `resolvers ${PROXY.resolvers}`,
    lines: [
      `nameserver docker ${DOCKER_DNS}`,
      "accepted_payload_size 8192",
      "resolve_retries 3",
      "timeout resolve 1s",
      "timeout retry 1s",
      "hold valid 10s",
      // A replica being recreated is briefly unknown: keep its last address for a moment only.
      "hold nx 2s",
      "hold refused 2s",
      "hold timeout 2s",
      "hold other 2s",
    ],
  };
}

function outboundFrontend(service: string, index: number, pod: string, listenPort: number, upstreams: UpstreamRef[]): Section {
  return {
    header: `frontend ${PROXY.outbound}`,
    lines: [
      // iptables REDIRECTs the app's outbound TCP here (127.0.0.1 for local traffic); the
      // wildcard matches Istio's outbound listener and works whatever address the rule picks.
      `bind 0.0.0.0:${listenPort}`,
      `http-request set-header x-mq-from ${service}`,
      `http-request set-header x-mq-from-replica ${index}`,
      "http-request set-var(txn.mq_host) req.hdr(host),field(1,:),lower",
      // Absolute-form requests (HTTP_PROXY-style clients) would reach the callee unchanged.
      "http-request set-uri %[pathq] unless { url_beg / }",
      // Allow-list: only declared upstreams are routable; a Host equal to an internal proxy name is not.
      ...upstreams.map((u) => `use_backend ${u.service} if { var(txn.mq_host) -m str ${u.service} }`),
      `default_backend ${PROXY.noRoute}`,
      `log-format '${outboundLogFormat(pod, service, index)}'`,
    ],
  };
}

function noRouteBackend(): Section {
  return {
    header: `backend ${PROXY.noRoute}`,
    lines: [
      `http-request return status ${NO_ROUTE_STATUS} content-type text/plain ` +
        `string "meshquake: no route for this host (not a declared upstream of this service)\\n" hdr x-mq-no-route 1`,
    ],
  };
}

function inboundFrontend(service: string, pod: string, listenPort: number): Section {
  return {
    header: `frontend ${PROXY.inbound}`,
    lines: [
      `bind 0.0.0.0:${listenPort}`,
      "http-request set-var(txn.mq_from) req.hdr(x-mq-from)",
      "http-request set-var(txn.mq_from_replica) req.hdr(x-mq-from-replica)",
      // Runtime faults (images/haproxy/faults.lua): may delay, or answer and end the request.
      "http-request lua.mq_fault",
      "http-response set-header x-mq-fault %[var(txn.mq_fault)] if { var(txn.mq_fault) -m found }",
      `default_backend ${PROXY.app}`,
      `log-format '${inboundLogFormat(pod, service)}'`,
    ],
  };
}

function appBackend(appPort: number): Section {
  return {
    header: `backend ${PROXY.app}`,
    lines: [
      // A fresh loopback connection per request: an app's idle keep-alive timeout (Node's is
      // 5 s) can never race a reused connection into a spurious 502.
      "option http-server-close",
      "retries 0",
      `server app 127.0.0.1:${appPort}`,
    ],
  };
}

/** One backend per upstream service: its replicas' inbound listeners and the callee's policy. */
function upstreamBackend(up: UpstreamRef): { section: Section; warnings: string[] } {
  const warnings: string[] = [];
  const warn = (msg: string) => warnings.push(`calls to ${up.service}: ${msg}`);
  const p = up.policy;
  const replicas = up.replicas.map((r) => ({
    index: integer(`${up.service}: replica index`, r.index, 0, 9999),
    host: hostName(`${up.service}: replica host`, r.host),
    port: port(`${up.service}: replica port`, r.port),
  }));
  if (replicas.length === 0) throw new HaproxyInputError(`calls to ${up.service}: the upstream has no replicas`);

  const timeout = durationMs(`${up.service}: timeout`, p.timeoutMs);
  const attempts = p.retries ? integer(`${up.service}: retries.attempts`, p.retries.attempts, 1, 100) : 1;
  let perTry = timeout;
  if (p.retries?.perTryTimeoutMs != null) {
    perTry = durationMs(`${up.service}: retries.perTryTimeout`, p.retries.perTryTimeoutMs);
    if (perTry > timeout) {
      warn(`retries.perTryTimeout ${perTry} ms is longer than timeout ${timeout} ms; each try is cut at ${timeout} ms`);
      perTry = timeout;
    }
  }
  if (attempts > 1) {
    warn(
      `timeout ${timeout} ms is not an overall deadline: HAProxy 2.6 bounds each try only, so a request ` +
        `may take up to ${attempts} × ${perTry} ms (plus connect time) across its ${attempts} attempts`,
    );
  }

  const retryLines = retrySettings(p, attempts, replicas.length, warn);
  const maxconn = connectionLimits(p, replicas.length, warn);
  for (const field of notRenderedYet(p)) warn(`${field} is not rendered yet by the haproxy data plane; it has no effect`);

  const lines = [
    `balance ${balanceAlgorithm(p.loadBalancer)}`,
    `timeout connect ${Math.min(perTry, CONNECT_TIMEOUT_CAP_MS)}ms`,
    // Per-try timeout (HAPROXY.md §2).
    `timeout server ${perTry}ms`,
    ...(maxconn ? [`timeout queue ${timeout}ms`] : []),
    ...retryLines,
    `default-server resolvers ${PROXY.resolvers} resolve-prefer ipv4 init-addr last,libc,none`,
    ...replicas.map((r, i) => `server r${r.index} ${r.host}:${r.port}${maxconn ? ` maxconn ${maxconn[i]}` : ""}`),
  ];
  return { section: { header: `backend ${up.service}`, lines }, warnings };
}

function balanceAlgorithm(lb: ResolvedPolicy["loadBalancer"]): string {
  switch (lb) {
    case "round-robin":
      return "roundrobin";
    case "least-request":
      return "leastconn";
    case "random":
      return "random(2)";
  }
}

function retrySettings(p: ResolvedPolicy, attempts: number, replicaCount: number, warn: (m: string) => void): string[] {
  // HAProxy retries connection failures 3 times unless told otherwise; "no policy" means none.
  if (!p.retries || attempts <= 1) return ["retries 0"];
  const keywords = new Set<string>();
  const retryOn = p.retries.retryOn;
  for (const on of retryOn) {
    switch (on) {
      case "5xx": {
        for (const s of RETRYABLE_STATUSES) if (s >= 500) keywords.add(String(s));
        // Envoy's 5xx also covers resets and per-try timeouts; here those need their own entries.
        const uncovered = (["reset", "timeout"] as const).filter((k) => !retryOn.includes(k));
        warn(
          "retryOn 5xx retries statuses 500-504 only (HAProxy 2.6 cannot retry other 5xx)" +
            (uncovered.length ? `; unlike Envoy's 5xx it does not cover ${uncovered.join(" or ")} unless listed` : ""),
        );
        break;
      }
      case "connect-failure":
        keywords.add("conn-failure");
        break;
      case "reset":
        keywords.add("empty-response");
        keywords.add("junk-response");
        break;
      case "timeout":
        keywords.add("response-timeout");
        break;
      default: {
        const status = Number(on);
        if ((RETRYABLE_STATUSES as readonly number[]).includes(status)) keywords.add(String(status));
        else warn(`retryOn ${on} cannot be retried by HAProxy 2.6 (allowed statuses: ${RETRYABLE_STATUSES.join(", ")}); ignored`);
      }
    }
  }
  if (keywords.size === 0) {
    warn(`retries.attempts ${attempts} with nothing HAProxy can retry on: no request is retried`);
    return ["retries 0"];
  }
  return [
    `retries ${attempts - 1}`,
    `retry-on ${[...keywords].join(" ")}`,
    // Every retry goes to another replica; without it all attempts hit the same one (HAPROXY.md §1).
    ...(replicaCount > 1 ? ["option redispatch 1"] : []),
  ];
}

/** circuitBreaker.maxConnections is one pool in Envoy; HAProxy limits each server: split it. */
function connectionLimits(p: ResolvedPolicy, replicaCount: number, warn: (m: string) => void): number[] | null {
  const max = p.circuitBreaker?.maxConnections;
  if (max == null) return null;
  integer("circuitBreaker.maxConnections", max, 1, 1_000_000);
  const base = Math.floor(max / replicaCount);
  const split = Array.from({ length: replicaCount }, (_, i) => Math.max(1, base + (i < max % replicaCount ? 1 : 0)));
  const total = split.reduce((a, b) => a + b, 0);
  if (replicaCount > 1 || total !== max) {
    warn(
      `circuitBreaker.maxConnections ${max} is split per replica as maxconn ${split.join("/")}` +
        `${total !== max ? ` (${total} in all: at least 1 each)` : ""}; HAProxy limits concurrent requests per server and queues the excess`,
    );
  }
  return split;
}

function notRenderedYet(p: ResolvedPolicy): string[] {
  const fields: string[] = [];
  if (p.retries?.budget) fields.push("retries.budget");
  if (p.circuitBreaker?.maxPending != null) fields.push("circuitBreaker.maxPending");
  if (p.outlierDetection) fields.push("outlierDetection");
  if (p.healthCheck) fields.push("healthCheck");
  return fields;
}
