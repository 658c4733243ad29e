// Renders one pod's HAProxy 2.6 sidecar config from the mesh-neutral policy. Pure: no I/O.
// The config is built from small sections; every scenario-derived value passes a check from
// names.ts before it is written. The HAProxy 2.6 behaviours it relies on were measured
// in real runs and are stated where they matter; docs/policy.md maps every policy field.
//
// Outbound, per destination service:
//
//   app ─▶ mq_outbound ─(Host)─▶ backend <service>  ─▶ listen mq_att_<service>_<i> ─▶ <service>-<i>:15006
//                                 routing: balance,     one per replica, every try passes here:
//                                 retries + failover,   per-try and overall deadline, logs the try,
//                                 budget, breaker       counts it, feeds outlier detection, checks
//
// HAProxy's own retries never show a retried error to the routing backend's counters or
// observers (a replica whose 150 503s were all retried stayed `hanafail=0`, `hrsp_5xx=0`), so
// everything that must see each try lives in the attempt listener. Its local failures travel back to the routing backend as statuses chosen so that
// `retry-on` retries exactly what the policy's `retryOn` asks for (see localFailures below).
import type { ResolvedPolicy, ResolvedRateLimit, ResolvedRetryBudget, RetryOn } from "../../scenario/types.js";
import type { WarningId } from "../../scenario/warnings.js";
import type { DataPlaneWarning, SidecarRenderInput, SidecarRendering, SidecarTls, UpstreamRef } from "../types.js";
import { GRPC_STATUS_VAR, START_VAR, attemptLogFormat, inboundLogFormat, outboundLogFormat } from "./log.js";
import {
  HaproxyInputError,
  PROXY,
  attemptProxy,
  budgetTable,
  durationMs,
  hostName,
  httpPath,
  integer,
  port,
  replicaServer,
  serviceName,
  word,
} from "./names.js";
import { splitWeights } from "../split-weights.js";
import { ROUTE_HEADER, ROUTE_PATH, ROUTE_TEXT, VERSION_NAME_PATTERN } from "../../scenario/spec.js";
import { PEAK_EWMA_FALLBACK_BALANCE, PEAK_EWMA_TRY_START, peakEwmaObserveLines, peakEwmaRoutingLines, peakEwmaWord } from "./peak-ewma.js";
import { podSeed } from "./seed.js";
import { GRPC_RETRY_CODES, isGrpcRetryOn, speaksH2 } from "../../scenario/protocols.js";
import { GRPC_DEADLINE_EXCEEDED, GRPC_UNAVAILABLE, grpcStatusName, httpStatusOfGrpc } from "../../model/grpc-status.js";

export const HAPROXY_CONFIG_PATH = "/etc/meshquake/haproxy.cfg";
/** Where the image bakes images/haproxy/ (see images/Dockerfile). */
export const HAPROXY_SUPPORT_DIR = "/usr/local/lib/meshquake/haproxy";
/** Docker's embedded DNS on user-defined networks: finds a restarted replica's new address. */
export const DOCKER_DNS = "127.0.0.11:53";

/**
 * The environment variable that tells the sidecar where its access log goes: a file in its own
 * directory, which the harness reads without Docker's logging in between (a line through stdout
 * travels to containerd, dockerd's json-file and back out of the logs API, and costs the
 * sidecar's hop a third of a millisecond at one connection). Unset: stdout.
 */
export const ACCESS_LOG_ENV = "MQ_ACCESS_LOG";

/** Status of the local answer for a Host the pod has no route to (logged like any request). */
export const NO_ROUTE_STATUS = 421;

/**
 * The policy has no connect timeout. Connecting on a local bridge takes well under a millisecond,
 * so this only matters for a replica that is gone; Envoy's default (5 s) would stall every such
 * attempt. Also the turn-around delay before retrying a failed connect: HAProxy waits
 * min(timeout connect, 1 s) before each such retry.
 */
export const CONNECT_TIMEOUT_CAP_MS = 1000;
/** The inbound hop never cuts a request short: the caller's policy owns the deadline. */
const INBOUND_TIMEOUT_MS = 300_000;
/** HAProxy's `retry-on` accepts only these statuses (it rejects `5xx` and `429` as unknown). */
const RETRYABLE_STATUSES = [401, 403, 404, 408, 425, 500, 501, 502, 503, 504] as const;
/** Envoy's default cap on a growing ejection (outlier_detection.max_ejection_time). */
export const MAX_EJECTION_TIME_MS = 300_000;
/** How much later than the attempt listeners the routing backend gives up on a try (a backstop). */
const ROUTING_TIMEOUT_SLACK_MS = 1000;

/**
 * Headers between the caller's routing backend and its attempt listeners. x-mq-local names a
 * failure the attempt listener produced itself (the replica never answered); the callee never
 * sees x-mq-deadline.
 */
export const MESH_HEADERS = {
  requestId: "x-mq-req",
  deadline: "x-mq-deadline",
  local: "x-mq-local",
  overflow: "x-mq-overflow",
  escaped: "x-mq-escaped",
  check: "x-mq-check",
  retryAfter: "x-mq-retry-after",
  /** On the 403 of a service that takes mesh calls over mutual TLS only, to a request from the mesh in plaintext. */
  plaintextRefused: "x-mq-plaintext-refused",
} as const;

/** The status HAProxy 2.6 cannot retry on (`retry-on 429` is rejected): retried through the tunnel, after its Retry-After. */
export const RATE_LIMITED_STATUS = 429;

/**
 * A failure the attempt listener answers itself. It reaches the routing backend as TUNNEL_RETRY
 * when the policy retries it and as TUNNEL_FINAL when it does not; the routing backend restores
 * the real status on the final response. So `retryOn: [503]` retries a replica's own 503 and not
 * a refused connection, as in Envoy.
 */
export const LOCAL_FAILURES = {
  "connect-failure": { status: 503, retriedBy: ["connect-failure", "reset", "5xx"] },
  reset: { status: 502, retriedBy: ["reset", "5xx"] },
  "per-try-timeout": { status: 504, retriedBy: ["timeout", "reset", "5xx"] },
  "overall-timeout": { status: 504, retriedBy: [] },
} as const satisfies Record<string, { status: number; retriedBy: readonly RetryOn[] }>;
export type LocalFailure = keyof typeof LOCAL_FAILURES;
/** Rarely sent by applications; a replica's own 425 is escaped on the way (see attemptListener). */
export const TUNNEL_RETRY = 425;
/** Not in any `retry-on` list. */
export const TUNNEL_FINAL = 599;

/**
 * The load generator's x-request-id (the fixture forwards it on every call), logged on both
 * frontends so a failed client request can be followed through every hop. Capped at 64 bytes:
 * the value comes from outside, and a log line over HAProxy's 1024-byte limit would be cut.
 */
const TRACE_ID_VAR = "http-request set-var(txn.mq_xid) req.hdr(x-request-id),bytes(0,64)";

export interface HaproxyRenderOptions {
  /** Directory holding faults.lua and policy.lua; a local haproxy run points it at images/haproxy. */
  supportDir?: string;
  /** Resolve replica names through Docker's DNS (default true); false for a run outside Docker. */
  dockerDns?: boolean;
}

interface Section {
  header: string;
  lines: string[];
}

/** What one destination contributes: sections, warnings, and its settings for policy.lua. */
interface UpstreamRendering {
  sections: Section[];
  warnings: DataPlaneWarning[];
  policy: PolicyLuaSettings;
}

/** One destination's words in policy.lua's and ewma.lua's environment (see images/haproxy/). */
interface PolicyLuaSettings {
  replicas: string;
  health: string | null;
  outlier: string | null;
  ewma: string | null;
}

export function renderHaproxySidecar(input: SidecarRenderInput, options: HaproxyRenderOptions = {}): SidecarRendering {
  const { text, warnings } = renderHaproxyConfig(input, options);
  return {
    files: [{ path: HAPROXY_CONFIG_PATH, content: text }],
    // The access log is file descriptor 3 (see globalSection): a file the harness tails when the
    // container names one in ACCESS_LOG_ENV, its stdout (Docker's log) otherwise.
    command: ["sh", "-c", `if [ -n "\${${ACCESS_LOG_ENV}:-}" ]; then exec 3>>"\$${ACCESS_LOG_ENV}"; else exec 3>&1; fi; exec haproxy -W -db -f ${HAPROXY_CONFIG_PATH}`],
    accessLogEnv: ACCESS_LOG_ENV,
    warnings,
  };
}

export function renderHaproxyConfig(input: SidecarRenderInput, options: HaproxyRenderOptions = {}): { text: string; warnings: DataPlaneWarning[] } {
  const service = serviceName("service", input.service.name);
  const index = integer(`${service}: replica index`, input.index, 0, 9999);
  const pod = `${service}-${index}`;
  const ports = {
    outbound: port(`${pod}: outbound port`, input.ports.outbound),
    inbound: port(`${pod}: inbound port`, input.ports.inbound),
    app: port(`${pod}: app port`, input.ports.app),
  };
  const seed = integer(`${pod}: seed`, input.seed, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const tls = input.tls ? checkedTls(pod, input.tls) : null;
  const mtlsPort = tls?.inbound ? port(`${pod}: mutual-TLS inbound port`, input.ports.mtlsInbound ?? Number.NaN) : null;
  if (!/^\/[A-Za-z0-9._/-]*$/.test(input.adminSocket)) throw new HaproxyInputError(`${pod}: admin socket "${input.adminSocket}" is not a plain absolute path`);
  const supportDir = options.supportDir ?? HAPROXY_SUPPORT_DIR;
  if (!/^\/[A-Za-z0-9._/-]*$/.test(supportDir)) throw new HaproxyInputError(`supportDir: "${supportDir}" is not a plain absolute path`);
  const dockerDns = options.dockerDns ?? true;

  const seen = new Set<string>();
  for (const up of input.upstreams) {
    serviceName(`${pod}: upstream`, up.service);
    if (seen.has(up.service)) throw new HaproxyInputError(`${pod}: upstream ${up.service} is listed twice`);
    seen.add(up.service);
  }
  for (const up of input.upstreams) {
    if (up.tls === "mutual" && !tls) throw new HaproxyInputError(`${pod}: calls to ${up.service} are mutual TLS, and the pod has no certificate`);
  }
  const upstreams = input.upstreams.map((up) => upstreamSections(up, pod, service, dockerDns, tls));
  const policy = upstreams.map((u) => u.policy);
  const protocol = input.service.protocol;

  const sections = [
    globalSection(pod, podSeed(seed, pod), input.adminSocket, supportDir, policy, protocol === "grpc"),
    defaultsSection(),
    ...(input.upstreams.length > 0 && dockerDns ? [resolversSection()] : []),
    outboundFrontend(service, index, pod, ports.outbound, input.upstreams),
    ...upstreams.flatMap((u) => u.sections),
    noRouteBackend(),
    ...inboundFrontends(service, pod, { plain: ports.inbound, mtls: mtlsPort }, tls, inboundRateLimit(input.rateLimit ?? null, pod), protocol === "grpc"),
    appBackend(ports.app, input.service.image === undefined, speaksH2(protocol)),
  ];
  return { text: formatConfig(pod, sections), warnings: upstreams.flatMap((u) => u.warnings) };
}

function formatConfig(pod: string, sections: Section[]): string {
  const head = `# meshquake sidecar for ${pod} (HAProxy 2.6), rendered by src/dataplane/haproxy/render.ts\n`;
  return head + sections.map((s) => [s.header, ...s.lines.map((l) => `  ${l}`)].join("\n")).join("\n\n") + "\n";
}

function globalSection(pod: string, seed: bigint, adminSocket: string, supportDir: string, policy: PolicyLuaSettings[], grpc: boolean): Section {
  const words = (pick: (p: PolicyLuaSettings) => string | null) => policy.flatMap((p) => (pick(p) === null ? [] : [pick(p)!]));
  // (setenv refuses an empty value: a missing variable means "none".)
  const env = (name: string, values: string[]) => (values.length ? [`setenv ${name} "${values.join(" ")}"`] : []);
  return {
    header: "global",
    lines: [
      // One writev per line to file descriptor 3, which the command opens (see renderHaproxySidecar).
      "log fd@3 format raw local0",
      // One thread: the Lua fault and outlier tables are one shared state, and request order stays replayable.
      "nbthread 1",
      // No global maxconn: HAProxy derives it from the container's open-files limit, and a
      // fixed value above what that limit allows is a fatal start-up error.
      "hard-stop-after 2s",
      // One command per connection, from the harness only: a unix socket in the sidecar's own
      // directory, which no app container mounts (the sidecar shares their network, not their files).
      `stats socket ${adminSocket} mode 600 level admin`,
      // Read by the Lua files at load time, so set before lua-load.
      `setenv MQ_POD ${pod}`,
      `setenv MQ_POD_SEED ${seed}`,
      // The app speaks gRPC: the Lua answers (faults, rate limit) are gRPC statuses.
      ...(grpc ? ["setenv MQ_PROTOCOL grpc"] : []),
      `lua-load ${supportDir}/faults.lua`,
      // Local rate limiting (inbound) and the wait before a retry after a 429 (outbound).
      `lua-load ${supportDir}/ratelimit.lua`,
      `lua-load ${supportDir}/retry_after.lua`,
      ...(policy.length
        ? [
            // images/haproxy/policy.lua: keeps each routing server in step with its replica
            // (ejection, DNS), ejects outliers, reports health changes. HAProxy 2.6's lua-load
            // takes no arguments, so its settings travel in the environment.
            ...env("MQ_REPLICAS", words((p) => p.replicas)),
            ...env("MQ_HEALTH", words((p) => p.health)),
            ...env("MQ_OUTLIER", words((p) => p.outlier)),
            `lua-load ${supportDir}/policy.lua`,
          ]
        : []),
      // images/haproxy/ewma.lua: picks the replica of destinations with loadBalancer: peak-ewma.
      ...(words((p) => p.ewma).length ? [...env("MQ_EWMA", words((p) => p.ewma)), `lua-load ${supportDir}/ewma.lua`] : []),
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
      `http-request set-var(txn.${START_VAR}) date(0,ms)`,
      // %rt counts every request this proxy handled: unique within the pod, joins tries to requests.
      `unique-id-format ${pod}.%rt`,
      `http-request set-header x-mq-from ${service}`,
      `http-request set-header x-mq-from-replica ${index}`,
      // set, never add: an app that forwards x-mq-* headers must not leak its caller's id.
      `http-request set-header ${MESH_HEADERS.requestId} %[unique-id]`,
      TRACE_ID_VAR,
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

/** The limiter's two words for ratelimit.lua, every value checked: rate (up to 6 decimals) and burst. */
function inboundRateLimit(limit: ResolvedRateLimit | null, pod: string): [string, string] | null {
  if (!limit) return null;
  const rate = limit.requestsPerSecond;
  if (!(Number.isFinite(rate) && rate > 0 && rate <= 1_000_000)) throw new HaproxyInputError(`${pod}: rateLimit.requestsPerSecond ${rate} is not in (0, 1000000]`);
  const burst = integer(`${pod}: rateLimit.burst`, limit.burst, 1, 1_000_000);
  return [String(Number(rate.toFixed(6))), String(burst)];
}

/** The paths in a sidecar's config are single words: checked like every other value written into it. */
function checkedTls(pod: string, tls: SidecarTls): SidecarTls {
  for (const path of [tls.certificate, tls.caFile]) {
    if (!/^\/[A-Za-z0-9._/-]*$/.test(path)) throw new HaproxyInputError(`${pod}: TLS file "${path}" is not a plain absolute path`);
  }
  return tls;
}

/** The mesh's mutual-TLS settings on either end of a connection: this pod's certificate, and only the run's CA trusted. */
function mutualTls(tls: SidecarTls): string {
  return `crt ${tls.certificate} ca-file ${tls.caFile} verify required`;
}

/**
 * The inbound side: the plaintext listener (the load generator and anything from outside the
 * mesh) and, when the pod's service is reached over mutual TLS, the listener other sidecars reach
 * it on. Both apply the same rules (rate limit, faults) and log alike, with how the request came.
 */
function inboundFrontends(
  service: string,
  pod: string,
  ports: { plain: number; mtls: number | null },
  tls: SidecarTls | null,
  rateLimit: [string, string] | null,
  grpc: boolean,
): Section[] {
  const plain = inboundFrontend(service, pod, PROXY.inbound, `bind 0.0.0.0:${ports.plain}`, rateLimit, grpc, tls?.inbound === true);
  if (!tls?.inbound || ports.mtls === null) return [plain];
  // ALPN offers h2 first: a caller that asks for it (an h2c destination's) speaks HTTP/2, any other HTTP/1.1.
  const bind = `bind 0.0.0.0:${ports.mtls} ssl ${mutualTls(tls)} alpn h2,http/1.1`;
  return [plain, inboundFrontend(service, pod, PROXY.mtlsInbound, bind, rateLimit, grpc, false)];
}

function inboundFrontend(service: string, pod: string, name: string, bind: string, rateLimit: [string, string] | null, grpc: boolean, refuseMeshPlaintext: boolean): Section {
  return {
    header: `frontend ${name}`,
    lines: [
      bind,
      `http-request set-var(txn.${START_VAR}) date(0,ms)`,
      "http-request set-var(txn.mq_from) req.hdr(x-mq-from)",
      "http-request set-var(txn.mq_from_replica) req.hdr(x-mq-from-replica)",
      `http-request set-var(txn.mq_req) req.hdr(${MESH_HEADERS.requestId})`,
      TRACE_ID_VAR,
      // A caller's active health check, not a request: logged, but marked.
      `http-request set-var(txn.mq_check) req.hdr(${MESH_HEADERS.check})`,
      // The service takes calls from the mesh over mutual TLS only (Istio's PeerAuthentication
      // STRICT): a request a caller's sidecar sent in plaintext (it carries x-mq-from) is
      // refused before anything else, and logged as such. Outside traffic (the load) passes.
      ...(refuseMeshPlaintext
        ? [
            "http-request set-var(txn.mq_plain) str(refused) if { req.hdr(x-mq-from) -m found }",
            `http-request return status 403 content-type text/plain string "meshquake: ${service} takes calls from the mesh over mutual TLS only\\n" ` +
              `hdr ${MESH_HEADERS.plaintextRefused} 1 if { var(txn.mq_plain) -m found }`,
          ]
        : []),
      // Local rate limit (images/haproxy/ratelimit.lua): a token bucket for this replica, before
      // the faults (a refused request never reaches the replica). Health checks pass free: a
      // limited check would take the replica out of its callers' rotation.
      ...(rateLimit ? [`http-request lua.mq_ratelimit ${rateLimit.join(" ")} unless { var(txn.mq_check) -m found }`] : []),
      // Runtime faults (images/haproxy/faults.lua): may delay, or answer and end the request.
      // They apply to health checks too, as a real failure would.
      "http-request lua.mq_fault",
      "http-response set-header x-mq-fault %[var(txn.mq_fault)] if { var(txn.mq_fault) -m found }",
      // A gRPC answer's status when it comes in the headers (a trailers-only answer: every
      // failure the sidecars make, and a gRPC server's failure before any message). HAProxy 2.6
      // has no fetch for trailers, so a status in them is not logged: the load generator's is the truth.
      ...(grpc ? [`http-after-response set-var(txn.${GRPC_STATUS_VAR}) res.hdr(grpc-status)`] : []),
      `default_backend ${PROXY.app}`,
      `log-format '${inboundLogFormat(pod, service)}'`,
    ],
  };
}

function appBackend(appPort: number, knownKeepAlive: boolean, h2: boolean): Section {
  return {
    header: `backend ${PROXY.app}`,
    lines: [
      // The fixture keeps idle connections 65 s, longer than this proxy ever holds one, so a
      // reused connection is never stale: keep-alive, as Istio's inbound does (a loopback connect
      // per request was 0.15 ms of every hop). A user's app may close an idle connection at any
      // moment (Node's default is 5 s), which would race a reused one into a spurious 502: a fresh
      // connection per request there.
      // HTTP/2 multiplexes requests on one connection: an h2 app keeps it (GOAWAY, not a race, ends it).
      ...(knownKeepAlive || h2 ? [] : ["option http-server-close"]),
      "retries 0",
      // An h2c app (http2, grpc) is spoken to in HTTP/2 with prior knowledge, as its clients do.
      `server app 127.0.0.1:${appPort}${h2 ? " proto h2" : ""}`,
    ],
  };
}

// --- one destination --------------------------------------------------------------------------

interface Replica {
  index: number;
  host: string;
  port: number;
  version?: string;
}

/** Says what HAProxy cannot apply exactly: which warning, about which policy field. */
type Warn = (id: WarningId, field: string, message: string) => void;

/** The policy as HAProxy will apply it, every value checked. */
interface Plan {
  service: string;
  replicas: Replica[];
  timeoutMs: number;
  perTryMs: number;
  attempts: number;
  retry: RetryPlan | null;
  budget: ResolvedRetryBudget | null;
  maxconn: number[] | null;
  maxPending: number | null;
  /** What the destination speaks: h2 between the sidecars for http2 and grpc; grpc answers gRPC statuses. */
  protocol: "http" | "http2" | "grpc";
  /** This pod's credentials when the destination is reached over mutual TLS; null: plaintext. */
  tls: SidecarTls | null;
}

interface RetryPlan {
  /** Replica statuses to retry (retry-on keywords). */
  statuses: number[];
  /** Local failures to retry. */
  local: LocalFailure[];
  /** retryOn 429: a 429 is retried through the tunnel once its Retry-After has passed (retry_after.lua). */
  afterRateLimit: boolean;
  /** gRPC statuses to retry (retryOn unavailable, …): sent back through the tunnel. */
  grpc: number[];
}

/** Routing backend, attempt listeners and budget table for calls to one destination service. */
function upstreamSections(up: UpstreamRef, pod: string, caller: string, dockerDns: boolean, podTls: SidecarTls | null): UpstreamRendering {
  const warnings: DataPlaneWarning[] = [];
  const warn: Warn = (id, field, message) => warnings.push({ id, upstream: up.service, field, message });
  const p = up.policy;
  const replicas: Replica[] = up.replicas.map((r) => ({
    index: integer(`${up.service}: replica index`, r.index, 0, 9999),
    host: hostName(`${up.service}: replica host`, r.host),
    port: port(`${up.service}: replica port`, r.port),
    ...(r.version !== undefined ? { version: word(`${up.service}: replica version`, r.version, VERSION_NAME_PATTERN) } : {}),
  }));
  if (replicas.length === 0) throw new HaproxyInputError(`calls to ${up.service}: the upstream has no replicas`);

  const timeoutMs = durationMs(`${up.service}: timeout`, p.timeoutMs);
  const attempts = p.retries ? Math.max(1, integer(`${up.service}: retries.attempts`, p.retries.attempts, 0, 100)) : 1;
  if (p.retries && p.retries.attempts === 0) warn("retry-attempts-zero", "retries.attempts", "retries.attempts 0 is read as a single try (attempts counts every try, the first included)");
  let perTryMs = timeoutMs;
  if (p.retries?.perTryTimeoutMs != null) {
    perTryMs = durationMs(`${up.service}: retries.perTryTimeout`, p.retries.perTryTimeoutMs);
    if (perTryMs > timeoutMs) {
      warn("per-try-timeout-cut", "retries.perTryTimeout", `retries.perTryTimeout ${perTryMs} ms is longer than timeout ${timeoutMs} ms; each try is cut at ${timeoutMs} ms`);
      perTryMs = timeoutMs;
    }
  }
  const protocol = up.protocol ?? "http";
  const retry = retryPlan(p, attempts, replicas.length, protocol, warn);
  const plan: Plan = {
    service: up.service,
    replicas,
    timeoutMs,
    perTryMs,
    attempts: retry ? attempts : 1,
    retry,
    budget: retry ? budgetPlan(p, attempts, warn) : null,
    maxconn: connectionLimits(p, replicas.length, warn),
    maxPending: pendingLimit(p, warn),
    protocol,
    tls: up.tls === "mutual" ? podTls : null,
  };
  if (p.retries?.budget && !retry) warn("retry-budget-unused", "retries.budget", "retries.budget has nothing to limit: no request is retried");
  const outlier = outlierPlan(p, plan, warn);
  if (p.loadBalancer === "least-request") {
    warn(
      "least-request-all-replicas",
      "loadBalancer",
      "loadBalancer least-request is HAProxy's leastconn: the replica with the fewest requests in flight among all " +
        "(Envoy's LEAST_REQUEST compares two random picks)",
    );
  }
  if (p.routes?.length && plan.retry) {
    warn(
      "route-retry-any-version",
      "routes",
      "a retry of a request a route sent to one version is redispatched by the balance over every version's replicas, by the " +
        "split's weights (Istio retries within the route's destination)",
    );
  }
  if (p.loadBalancer === "peak-ewma" && plan.retry && replicas.length > 1) {
    warn(
      "peak-ewma-retries-by-load",
      "loadBalancer",
      `loadBalancer peak-ewma picks each request's first try by latency; a retry goes to another replica chosen by HAProxy's ` +
        `${PEAK_EWMA_FALLBACK_BALANCE} (fewer requests in flight of two), not by latency`,
    );
  }

  const sections: Section[] = [
    routingBackend(plan, p),
    ...replicas.map((r) => attemptListener(plan, r, p, pod, caller, dockerDns)),
    ...(plan.budget ? [budgetTableSection(plan.service, plan.budget)] : []),
  ];
  const policy: PolicyLuaSettings = {
    replicas: `${up.service}:${replicas.map((r) => r.index).join(".")}`,
    health: p.healthCheck ? up.service : null,
    outlier,
    ewma: p.loadBalancer === "peak-ewma" ? peakEwmaWord(peakEwmaTarget(plan, p)) : null,
  };
  return { sections, warnings, policy };
}

function routingBackend(plan: Plan, p: ResolvedPolicy): Section {
  const { service, retry } = plan;
  const weights = splitWeights(plan.replicas, p.split);
  const lines = [
    `balance ${balanceAlgorithm(p.loadBalancer)}`,
    // One connection per try to the attempt listener (a unix socket in the pod: cheap). A pooled
    // one could be closed by the listener after a failure and then reused by the next request,
    // which HAProxy answers by silently closing the app's connection.
    "option http-server-close",
    // The attempt listeners cut each try (per-try timeout, overall deadline) and always answer;
    // this is only a backstop.
    `timeout server ${plan.timeoutMs + ROUTING_TIMEOUT_SLACK_MS}ms`,
    ...(plan.maxconn ? [`timeout queue ${plan.timeoutMs}ms`] : []),
    `http-request set-var(txn.mq_max) int(${plan.attempts})`,
    // The whole request's deadline, checked and enforced by every try's attempt listener.
    `http-request set-header ${MESH_HEADERS.deadline} %[date(0,ms),add(${plan.timeoutMs})]`,
    ...breakerLines(plan),
    ...(plan.budget ? budgetLines(service, plan.budget) : []),
    ...retryLines(plan),
    ...routeLines(plan, p),
    ...(p.loadBalancer === "peak-ewma" ? peakEwmaRoutingLines(peakEwmaTarget(plan, p)) : []),
    // The final response: what the caller gets. Local failures get their real status back.
    `http-response set-var(txn.mq_local) res.hdr(${MESH_HEADERS.local})`,
    "http-response set-var(txn.mq_fault) res.hdr(x-mq-fault)",
    ...(Object.keys(LOCAL_FAILURES) as LocalFailure[]).map(
      (f) => `http-response set-status ${LOCAL_FAILURES[f].status} if { var(txn.mq_local) -m str ${f} }`,
    ),
    ...(escapesTunnel(plan) ? [`http-response set-status ${TUNNEL_RETRY} if { res.hdr(${MESH_HEADERS.escaped}) -m found }`] : []),
    `http-response del-header ${MESH_HEADERS.escaped}`,
    ...(plan.retry?.afterRateLimit
      ? [
          `http-response set-status ${RATE_LIMITED_STATUS} if { res.hdr(${MESH_HEADERS.retryAfter}) -m found }`,
          `http-response del-header ${MESH_HEADERS.retryAfter}`,
        ]
      : []),
    ...(plan.protocol === "grpc" ? grpcAnswerLines() : []),
    ...plan.replicas.map((r, i) => {
      const att = attemptProxy(service, r.index);
      const limit = plan.maxconn ? ` maxconn ${plan.maxconn[i]}` : "";
      // A split is server weights (changed at runtime by a shift, never by a reload).
      const weight = p.split ? ` weight ${weights[i]}` : "";
      const track = p.healthCheck ? ` track ${att}/${replicaServer(r.index)}` : "";
      return `server ${replicaServer(r.index)} abns@${att}${weight}${limit}${track}${speaksH2(plan.protocol) ? " proto h2" : ""}`;
    }),
  ];
  return { header: `backend ${service}`, lines };
}

/** True when the routing backend retries TUNNEL_RETRY: local failures or 429s travel through it. */
function usesTunnel(retry: RetryPlan | null): boolean {
  return retry !== null && (retry.local.length > 0 || retry.afterRateLimit || retry.grpc.length > 0);
}

/** True when replica answers of status TUNNEL_RETRY must be escaped so they are not retried. */
function escapesTunnel(plan: Plan): boolean {
  return usesTunnel(plan.retry) && !plan.retry!.statuses.includes(TUNNEL_RETRY);
}

function retryLines(plan: Plan): string[] {
  // HAProxy retries connection failures 3 times unless told otherwise; "no policy" means none.
  if (!plan.retry) return ["retries 0"];
  const on = [...plan.retry.statuses, ...(usesTunnel(plan.retry) ? [TUNNEL_RETRY] : [])];
  return [
    `retries ${plan.attempts - 1}`,
    `retry-on ${on.join(" ")}`,
    // Every retry goes to another replica; without it all attempts hit the same one (measured: a
    // bad replica got all 4 tries of its requests).
    ...(plan.replicas.length > 1 ? ["option redispatch 1"] : []),
  ];
}

function breakerLines(plan: Plan): string[] {
  if (plan.maxPending === null || !plan.maxconn) return [];
  // HAProxy queues a request that finds every replica at its maxconn in the backend queue;
  // `maxqueue` bounds only a server's own queue, which only hash or sticky routing fills.
  // Refusing it here, before it queues, is Envoy's max_pending_requests overflow: a fast 503,
  // marked.
  const over = Math.max(1, plan.maxPending);
  const answer =
    plan.protocol === "grpc"
      ? `status 200 hdr grpc-status ${GRPC_UNAVAILABLE} hdr grpc-message meshquake-circuit-breaker-overflow`
      : `status 503 content-type text/plain string "meshquake: circuit breaker overflow on calls to ${plan.service}\\n"`;
  return [
    `http-request set-var(txn.mq_cause) str(overflow) if { queue(${plan.service}) ge ${over} }`,
    // (A gRPC caller gets UNAVAILABLE as a trailers-only answer, as from Envoy's overflow.)
    `http-request return ${answer} hdr ${MESH_HEADERS.overflow} 1 if { var(txn.mq_cause) -m str overflow }`,
    ...(plan.protocol === "grpc"
      ? [
          `http-request set-var(txn.${GRPC_STATUS_VAR}) int(${GRPC_UNAVAILABLE}) if { var(txn.mq_cause) -m str overflow }`,
          // (HAProxy drops a content-type from an answer without a payload.)
          "http-after-response set-header content-type application/grpc if { var(txn.mq_cause) -m str overflow }",
        ]
      : []),
  ];
}

/**
 * Linkerd-style budget in a stick table (2.6 has no fetch for a request's retries, and its
 * response rules see only the final answer): the routing backend counts requests and the
 * attempt listeners count tries into one stick-table entry; a request starts with its retries
 * disabled when retries (tries − requests) over the window already reach ratio × requests +
 * minPerSecond × window. Integers only, and every operand of add/sub stays ≥ 0: HAProxy 2.6.12
 * returns LLONG_MAX for add/sub on two negative operands, which disabled every retry.
 */
function budgetLines(service: string, b: ResolvedRetryBudget): string[] {
  const table = budgetTable(service);
  const perMille = 1000 + Math.round(b.ratio * 1000);
  const minPerWindow = Math.round((b.minPerSecond * b.windowMs) / 1000);
  return [
    `http-request track-sc0 str(${service}) table ${table}`,
    "http-request sc-inc-gpc(1,0)",
    "http-request set-var(txn.mq_breq) sc_gpc_rate(1,0)",
    "http-request set-var(txn.mq_btry) sc_gpc_rate(0,0)",
    `http-request set-var(txn.mq_ballow) var(txn.mq_breq),mul(${perMille}),div(1000),add(${minPerWindow})`,
    "http-request set-var(txn.mq_budget) str(denied) if { var(txn.mq_btry),sub(txn.mq_ballow) ge 0 }",
    "http-request disable-l7-retry if { var(txn.mq_budget) -m found }",
  ];
}

function budgetTableSection(service: string, b: ResolvedRetryBudget): Section {
  const window = durationMs(`${service}: retries.budget.window`, b.windowMs);
  return {
    header: `backend ${budgetTable(service)}`,
    lines: [`stick-table type string len 64 size 16 expire ${2 * window}ms store gpc(2),gpc_rate(2,${window})`],
  };
}

function attemptListener(plan: Plan, r: Replica, p: ResolvedPolicy, pod: string, caller: string, dockerDns: boolean): Section {
  const name = attemptProxy(plan.service, r.index);
  const server = replicaServer(r.index);
  const replicaId = `${plan.service}-${r.index}`;
  const local = (f: LocalFailure) => (plan.retry?.local.includes(f) ? TUNNEL_RETRY : TUNNEL_FINAL);
  const hc = p.healthCheck
    ? {
        path: httpPath(`${plan.service}: healthCheck.path`, p.healthCheck.path),
        intervalMs: durationMs(`${plan.service}: healthCheck.interval`, p.healthCheck.intervalMs),
        unhealthyAfter: integer(`${plan.service}: healthCheck.unhealthyAfter`, p.healthCheck.unhealthyAfter, 1, 1000),
        healthyAfter: integer(`${plan.service}: healthCheck.healthyAfter`, p.healthCheck.healthyAfter, 1, 1000),
      }
    : null;
  const lines = [
    // HTTP/2 for an h2c destination, on this hop too: HAProxy 2.6 turns an h2 answer with no body
    // (gRPC's trailers-only) into a chunked HTTP/1.1 one and back into HEADERS plus an empty DATA
    // frame, and a gRPC client then finds no status (measured: "Call ended without gRPC status").
    `bind abns@${name}${speaksH2(plan.protocol) ? " proto h2" : ""}`,
    // Every try arrives on a new connection from the routing backend, and HAProxy's default
    // (safe) never sends a connection's first request over a pooled server connection: each try
    // would open a TCP connection to the replica. The replica's sidecar keeps idle connections
    // far longer than this pool does (120 s vs the 5 s purge), so reuse is safe here.
    "http-reuse always",
    "retries 0",
    `timeout connect ${Math.min(plan.perTryMs, CONNECT_TIMEOUT_CAP_MS)}ms`,
    // A retry after a 429 first waits out the Retry-After (images/haproxy/retry_after.lua), so the
    // deadline below counts from when it really starts.
    ...(plan.retry?.afterRateLimit ? ["http-request lua.mq_retry_wait"] : []),
    `timeout server ${plan.perTryMs}ms`,
    `http-request set-var(txn.mq_req) req.hdr(${MESH_HEADERS.requestId})`,
    // The overall deadline: a try that starts after it is not sent; one that would outlive it is
    // cut at it instead of at the per-try timeout.
    `http-request set-var(txn.${START_VAR}) date(0,ms)`,
    `http-request set-var(txn.mq_left) req.hdr(${MESH_HEADERS.deadline}),sub(txn.${START_VAR})`,
    ...(plan.retry?.afterRateLimit ? [`http-request set-var(txn.mq_deadline) req.hdr(${MESH_HEADERS.deadline})`] : []),
    `http-request del-header ${MESH_HEADERS.deadline}`,
    ...(p.loadBalancer === "peak-ewma" ? [PEAK_EWMA_TRY_START] : []),
    "http-request set-var(txn.mq_cut) str(per-try-timeout)",
    `http-request set-var(txn.mq_cut) str(overall-timeout) if { var(txn.mq_left),sub(${plan.perTryMs}) lt 0 }`,
    "http-request set-var(txn.mq_unsent) int(1) if { var(txn.mq_left) -m int le 0 }",
    `http-request return status 504${localBody(plan, `meshquake: timeout of calls to ${plan.service} reached before this try`)} ` +
      `hdr ${MESH_HEADERS.local} overall-timeout if { var(txn.mq_unsent) -m found }`,
    "http-request set-timeout server var(txn.mq_left) if { var(txn.mq_cut) -m str overall-timeout }",
    ...(plan.budget ? [`http-request track-sc0 str(${plan.service}) table ${budgetTable(plan.service)}`, "http-request sc-inc-gpc(0,0)"] : []),
    // What the caller's proxy itself answers when the replica does not.
    `http-error status 503${localBody(plan, `meshquake: ${replicaId} unreachable`)} hdr ${MESH_HEADERS.local} connect-failure`,
    `http-error status 502${localBody(plan, `meshquake: ${replicaId} closed the connection without a valid answer`)} hdr ${MESH_HEADERS.local} reset`,
    `http-error status 504${localBody(plan, `meshquake: ${replicaId} did not answer in time`)} hdr ${MESH_HEADERS.local} %[var(txn.mq_cut)]`,
    // Only this listener may mark a failure as its own: a replica's answer never can.
    `http-response del-header ${MESH_HEADERS.local}`,
    `http-response del-header ${MESH_HEADERS.escaped}`,
    `http-response del-header ${MESH_HEADERS.retryAfter}`,
    "http-response set-var(txn.mq_fault) res.hdr(x-mq-fault)",
    ...(plan.protocol === "grpc" ? grpcTryLines(plan) : []),
    `http-response set-var(txn.mq_ra) res.hdr(retry-after),bytes(0,32) if { status ${RATE_LIMITED_STATUS} }`,
    // When this sidecar got the 429: what its Retry-After counts from (the try's logged end is later).
    `http-response set-var(txn.mq_ra_at) date(0,ms) if { status ${RATE_LIMITED_STATUS} }`,
    ...(escapesTunnel(plan)
      ? [
          `http-response set-header ${MESH_HEADERS.escaped} 1 if { status ${TUNNEL_RETRY} }`,
          `http-response set-status 400 if { status ${TUNNEL_RETRY} }`,
        ]
      : []),
    ...grpcRetryLines(plan),
    ...(plan.retry?.afterRateLimit
      ? [
          `http-response lua.mq_retry_after if { status ${RATE_LIMITED_STATUS} }`,
          `http-response set-header ${MESH_HEADERS.retryAfter} 1 if { var(txn.mq_ra_retry) -m found }`,
          `http-response set-status ${TUNNEL_RETRY} if { var(txn.mq_ra_retry) -m found }`,
        ]
      : []),
    `http-after-response set-var(txn.mq_local) res.hdr(${MESH_HEADERS.local})`,
    ...(p.loadBalancer === "peak-ewma" ? peakEwmaObserveLines(plan.service, r.index) : []),
    // policy.lua: outlier detection sees the try, and its clock is set to the wall clock.
    ...(p.outlierDetection || hc
      ? ["http-after-response set-var(txn.mq_t1) date(0,ms)", `http-after-response set-var(txn.mq_od) lua.mq_attempt(${plan.service},${r.index})`]
      : []),
    ...(Object.keys(LOCAL_FAILURES) as LocalFailure[]).map(
      (f) => `http-after-response set-status ${local(f)} if { var(txn.mq_local) -m str ${f} }`,
    ),
    ...(hc
      ? [
          "option httpchk",
          `http-check send meth GET uri ${hc.path} ver HTTP/1.1 hdr host ${plan.service} hdr ${MESH_HEADERS.check} ${caller}`,
          "http-check expect status 200",
        ]
      : []),
    `log-format '${attemptLogFormat(pod, plan.service, r.index)}'`,
    `server ${server} ${r.host}:${r.port}${dockerDns ? ` resolvers ${PROXY.resolvers} resolve-prefer ipv4 init-addr last,libc,none` : ""}` +
      (plan.tls ? ` ${serverTls(plan, plan.tls)}` : speaksH2(plan.protocol) ? " proto h2" : "") +
      (hc ? ` ${healthCheckSettings(plan, hc)}` : ""),
  ];
  return { header: `listen ${name}`, lines };
}

/**
 * The replica's mutual-TLS listener: this pod's certificate, the replica's checked against the
 * run's CA and the destination's name (HAProxy 2.6's verifyhost, without SNI, matches it against
 * the certificate's dNSName entries, which carry the service). HTTP/2 between the sidecars for an
 * h2c destination, as in plaintext (one connection carries many requests, and gRPC's trailers
 * travel as they are): chosen by ALPN over TLS, by `proto h2` without it. Connections are pooled
 * and reused as in plaintext (http-reuse always): one handshake per connection, not per request.
 */
function serverTls(plan: Plan, tls: SidecarTls): string {
  return `ssl ${mutualTls(tls)} verifyhost ${plan.service}${speaksH2(plan.protocol) ? " alpn h2" : ""}`;
}

/**
 * Active health checks go over the same TLS as the traffic (`check-ssl`, which a server with `ssl`
 * and no check port implies; said anyway), and in HTTP/1.1: an h2 destination's checks ask for it
 * by ALPN (check-alpn), as `check-proto h1` does in plaintext.
 */
function healthCheckSettings(plan: Plan, hc: { intervalMs: number; unhealthyAfter: number; healthyAfter: number }): string {
  const h2 = speaksH2(plan.protocol);
  const how = plan.tls ? ` check-ssl${h2 ? " check-alpn http/1.1 check-proto h1" : ""}` : h2 ? " check-proto h1" : "";
  return `check inter ${hc.intervalMs}ms fall ${hc.unhealthyAfter} rise ${hc.healthyAfter}${how}`;
}

/**
 * The body of an answer the caller's sidecar makes itself. To a gRPC caller it is empty: the
 * routing backend turns it into a trailers-only gRPC answer (grpcAnswerLines), and a body would
 * be read as a malformed message.
 */
function localBody(plan: Plan, text: string): string {
  // (HAProxy drops a content-type from an answer without a payload: the routing backend sets it.)
  return plan.protocol === "grpc" ? "" : ` content-type text/plain string "${text}\\n"`;
}

/**
 * A try's gRPC status (trailers-only answers carry it in the headers): logged, counted as the
 * HTTP status it stands for by outlier detection (Envoy's grpcToHttpStatus: UNAVAILABLE is a
 * 503), and sent back through the tunnel when the policy retries it.
 */
function grpcTryLines(plan: Plan): string[] {
  const fiveXx = [...Array(17).keys()].filter((c) => httpStatusOfGrpc(c) >= 500);
  return [
    `http-response set-var(txn.${GRPC_STATUS_VAR}) res.hdr(grpc-status)`,
    `http-response set-var(txn.mq_gfail) int(1) if { var(txn.${GRPC_STATUS_VAR}) -m int ${fiveXx.join(" ")} }`,
  ];
}

/** After the tunnel's escape (a replica's own 425 is not a retry): the gRPC statuses the policy retries go back as one. */
function grpcRetryLines(plan: Plan): string[] {
  if (plan.protocol !== "grpc" || !plan.retry?.grpc.length) return [];
  return [`http-response set-status ${TUNNEL_RETRY} if { var(txn.${GRPC_STATUS_VAR}) -m int ${plan.retry.grpc.join(" ")} }`];
}

/**
 * The final answer to a gRPC caller: a failure its sidecar made (connect failure, reset,
 * timeout) becomes a trailers-only gRPC answer (UNAVAILABLE, or DEADLINE_EXCEEDED for a timeout,
 * as Envoy answers), and every gRPC answer gets back its HTTP 200 (the tunnel's 425 included).
 */
function grpcAnswerLines(): string[] {
  const local = `var(txn.mq_local)`;
  return [
    `http-response set-header grpc-status ${GRPC_UNAVAILABLE} if { ${local} -m str connect-failure reset }`,
    `http-response set-header grpc-status ${GRPC_DEADLINE_EXCEEDED} if { ${local} -m str per-try-timeout overall-timeout }`,
    `http-response set-header grpc-message meshquake-%[${local}] if { ${local} -m found }`,
    `http-response set-header content-type application/grpc if { ${local} -m found }`,
    "http-response set-status 200 if { res.hdr(grpc-status) -m found }",
    `http-response set-var(txn.${GRPC_STATUS_VAR}) res.hdr(grpc-status)`,
  ];
}

function balanceAlgorithm(lb: ResolvedPolicy["loadBalancer"]): string {
  switch (lb) {
    case "round-robin":
      return "roundrobin";
    case "least-request":
      return "leastconn";
    case "random":
      // Power of two choices: the less loaded of two random replicas, meshquake's meaning of `random`.
      return "random(2)";
    case "peak-ewma":
      // images/haproxy/ewma.lua picks first tries (see peak-ewma.ts); this chooses the rest.
      return PEAK_EWMA_FALLBACK_BALANCE;
  }
}

/**
 * Routes: the first route a request matches names its version (txn.mq_route), and one of that
 * version's replicas is drawn at random for it (use-server); the rest go by the balance and the
 * split's weights. A pinned server that is down is skipped by HAProxy, and the request balanced.
 */
function routeLines(plan: Plan, p: ResolvedPolicy): string[] {
  const routes = p.routes ?? [];
  if (routes.length === 0) return [];
  const lines: string[] = [];
  for (const route of routes) {
    const to = word(`${plan.service}: route version`, route.to, VERSION_NAME_PATTERN);
    const match =
      "path" in route.match
        ? `{ path -m beg ${word(`${plan.service}: route path`, route.match.path, ROUTE_PATH)} }`
        : `{ req.hdr(${word(`${plan.service}: route header`, route.match.header, ROUTE_HEADER)}) -m str ${word(`${plan.service}: route value`, route.match.value, ROUTE_TEXT)} }`;
    lines.push(`http-request set-var(txn.mq_route) str(${to}) if ${match} !{ var(txn.mq_route) -m found }`);
  }
  const versions = [...new Set(routes.map((r) => r.to))];
  for (const version of versions) {
    const members = plan.replicas.filter((r) => r.version === version);
    if (members.length === 0) throw new HaproxyInputError(`calls to ${plan.service}: a route goes to version ${version}, which has no replica`);
    lines.push(`http-request set-var(txn.mq_route_pick) rand(${members.length}) if { var(txn.mq_route) -m str ${version} }`);
    for (const [k, r] of members.entries()) {
      lines.push(`use-server ${replicaServer(r.index)} if { var(txn.mq_route) -m str ${version} } { var(txn.mq_route_pick) -m int ${k} }`);
    }
  }
  return lines;
}

function peakEwmaTarget(plan: Plan, p: ResolvedPolicy) {
  return { service: plan.service, replicas: plan.replicas.map((r) => r.index), healthChecked: p.healthCheck !== null, limited: plan.maxconn !== null };
}

function retryPlan(p: ResolvedPolicy, attempts: number, replicaCount: number, protocol: Plan["protocol"], warn: Warn): RetryPlan | null {
  if (!p.retries || attempts <= 1) return null;
  const retryOn = p.retries.retryOn;
  const statuses = new Set<number>();
  const grpc = new Set<number>();
  let afterRateLimit = false;
  for (const on of retryOn) {
    if (isGrpcRetryOn(on)) {
      // The scenario refuses a gRPC condition for a destination that does not speak gRPC.
      if (protocol === "grpc") grpc.add(GRPC_RETRY_CODES[on]);
      continue;
    }
    if (protocol === "grpc" && on !== "connect-failure" && on !== "reset" && on !== "timeout") {
      warn(
        "grpc-retry-http-status",
        "retries.retryOn",
        `retryOn ${on} on calls to a grpc service retries only answers without a gRPC status (a plain HTTP error); a gRPC ` +
          `failure is HTTP 200 with a grpc-status, retried by ${Object.keys(GRPC_RETRY_CODES).join(", ")} (as in Istio)`,
      );
    }
    if (on === String(RATE_LIMITED_STATUS)) {
      afterRateLimit = true;
      warn(
        "retry-429-after-delay",
        "retries.retryOn",
        "retryOn 429 retries only a 429 whose Retry-After is delta-seconds and ends before the timeout, after waiting it out in " +
          "this sidecar (an HTTP-date or a missing Retry-After is not retried); Envoy's rate_limited_retry_back_off also falls back to its back-off",
      );
    } else if (on === "5xx") {
      for (const s of RETRYABLE_STATUSES) if (s >= 500) statuses.add(s);
      warn("retry-5xx-statuses", "retries.retryOn", "retryOn 5xx retries replica statuses 500-504 only (HAProxy 2.6 cannot retry other 5xx)");
    } else if (on !== "connect-failure" && on !== "reset" && on !== "timeout") {
      const status = Number(on);
      if ((RETRYABLE_STATUSES as readonly number[]).includes(status)) statuses.add(status);
      else warn("retry-status-unsupported", "retries.retryOn", `retryOn ${on} cannot be retried by HAProxy 2.6 (allowed statuses: ${RETRYABLE_STATUSES.join(", ")}); ignored`);
    }
  }
  const local = (Object.keys(LOCAL_FAILURES) as LocalFailure[]).filter((f) =>
    (LOCAL_FAILURES[f].retriedBy as readonly RetryOn[]).some((on) => retryOn.includes(on)),
  );
  if (statuses.size === 0 && local.length === 0 && !afterRateLimit && grpc.size === 0) {
    warn("retry-nothing-retriable", "retries.retryOn", `retries.attempts ${attempts} with nothing HAProxy can retry on: no request is retried`);
    return null;
  }
  if (attempts >= 3 && replicaCount >= 3) {
    warn(
      "retry-previous-host",
      "retries.attempts",
      `each retry avoids the replica the previous try used, not every replica tried before: with ${attempts} attempts a later ` +
        "retry may return to an earlier replica (Envoy's previous_hosts avoids them all)",
    );
  }
  if (grpc.size > 0) {
    warn(
      "grpc-retry-trailers",
      "retries.retryOn",
      `retryOn ${[...grpc].map((c) => grpcStatusName(c).toLowerCase().replace(/_/g, "-")).join(", ")} retries a gRPC status sent in the ` +
        "response headers (a trailers-only answer: a failure before any message, as servers, proxies and faults send it); HAProxy 2.6 " +
        "cannot read trailers, so a status sent after a message is not retried",
    );
  }
  return { statuses: [...statuses].sort((a, b) => a - b), local, afterRateLimit, grpc: [...grpc].sort((a, b) => a - b) };
}

function budgetPlan(p: ResolvedPolicy, attempts: number, warn: Warn): ResolvedRetryBudget | null {
  const b = p.retries?.budget;
  if (!b) return null;
  if (!(b.ratio >= 0 && b.ratio <= 1)) throw new HaproxyInputError(`retries.budget.ratio: ${b.ratio} is not in 0..1`);
  integer("retries.budget.minPerSecond", b.minPerSecond, 0, 1_000_000);
  durationMs("retries.budget.window", b.windowMs);
  warn(
    "retry-budget-at-start",
    "retries.budget",
    `retries.budget is checked when a request starts: one admitted while budget remains may still use all ${attempts - 1} ` +
      `of its retries, so retries can overshoot ratio × requests + minPerSecond × window by a few; rates are HAProxy's ` +
      `sliding estimates over ${b.windowMs} ms`,
  );
  return b;
}

/** circuitBreaker.maxConnections is one pool in Envoy; HAProxy limits each server: split it. */
function connectionLimits(p: ResolvedPolicy, replicaCount: number, warn: Warn): number[] | null {
  const max = p.circuitBreaker?.maxConnections;
  if (max == null) return null;
  integer("circuitBreaker.maxConnections", max, 1, 1_000_000);
  const base = Math.floor(max / replicaCount);
  const split = Array.from({ length: replicaCount }, (_, i) => Math.max(1, base + (i < max % replicaCount ? 1 : 0)));
  const total = split.reduce((a, b) => a + b, 0);
  if (replicaCount > 1 || total !== max) {
    warn(
      "breaker-per-replica",
      "circuitBreaker.maxConnections",
      `circuitBreaker.maxConnections ${max} is split per replica as maxconn ${split.join("/")}` +
        `${total !== max ? ` (${total} in all: at least 1 each)` : ""}; HAProxy limits concurrent requests per server and queues the excess`,
    );
  }
  return split;
}

function pendingLimit(p: ResolvedPolicy, warn: Warn): number | null {
  const pending = p.circuitBreaker?.maxPending;
  if (pending == null) return null;
  integer("circuitBreaker.maxPending", pending, 0, 1_000_000);
  if (p.circuitBreaker?.maxConnections == null) {
    warn("breaker-pending-inert", "circuitBreaker.maxPending", "circuitBreaker.maxPending has no effect without maxConnections: nothing ever waits for a connection");
    return null;
  }
  if (pending === 0) warn("breaker-pending-zero", "circuitBreaker.maxPending", "circuitBreaker.maxPending 0 behaves as 1: HAProxy can only refuse a request while another one waits");
  return pending;
}

/**
 * Settings for images/haproxy/policy.lua, one word per destination:
 * `<service>:<consecutive5xx>:<interval ms>:<base ejection ms>:<max ejection %>:<max ejection ms>`.
 */
function outlierPlan(p: ResolvedPolicy, plan: Plan, warn: Warn): string | null {
  const od = p.outlierDetection;
  if (!od) return null;
  const consecutive = integer(`${plan.service}: outlierDetection.consecutive5xx`, od.consecutive5xx, 1, 1_000_000);
  const interval = durationMs(`${plan.service}: outlierDetection.interval`, od.intervalMs);
  const base = durationMs(`${plan.service}: outlierDetection.baseEjectionTime`, od.baseEjectionTimeMs);
  if (!(od.maxEjectionPercent >= 0 && od.maxEjectionPercent <= 1)) {
    throw new HaproxyInputError(`${plan.service}: outlierDetection.maxEjectionPercent ${od.maxEjectionPercent} is not in 0..1`);
  }
  const pct = Number((od.maxEjectionPercent * 100).toFixed(3));
  if (p.healthCheck) {
    warn(
      "ejection-with-health-check",
      "outlierDetection",
      "outlierDetection with healthCheck: an ejected replica stays out until its ejection time ends, even if its health " +
        "checks pass (Envoy re-admits it on the next passing check)",
    );
  }
  return `${plan.service}:${consecutive}:${interval}:${base}:${pct}:${Math.max(base, MAX_EJECTION_TIME_MS)}`;
}
