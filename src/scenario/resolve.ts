// ScenarioSpec (as written) → ResolvedScenario (what the engine uses), in one place: every
// default applied from DEFAULTS, durations in ms, percents as fractions. It runs only on a
// scenario that validated, so it does not re-check what validation already did.
import { DEFAULT_ABORT_GRPC_STATUS } from "./protocols.js";
import { dirname, isAbsolute, join, resolve as resolvePath } from "node:path";
import { FIXTURE_PROTO_FILE } from "../util/package-root.js";
import { DEFAULTS } from "./defaults.js";
import { parseDuration, parseDurationOrRange } from "./duration.js";
import type { DocPath } from "./locate.js";
import { parseMemorySize } from "./memory-size.js";
import { parseSloExpression } from "./slo-expression.js";
import {
  ENDPOINT_PATTERN,
  WINDOW_PATTERN,
  type CheckSpec,
  type FaultSpec,
  type LoadSpec,
  type PolicySpec,
  type BuildSpec,
  type HealthSpec,
  type ScenarioSpec,
  type ServiceSpec,
} from "./spec.js";
import type {
  Endpoint,
  GrpcCall,
  LoadProtocol,
  ImageSource,
  Readiness,
  RequestTemplate,
  ResolvedImage,
  ResolvedCheck,
  ResolvedFault,
  ResolvedLoad,
  ResolvedPolicy,
  ResolvedScenario,
  ResolvedService,
  ResolvedVersion,
  RetryOn,
  SourceLocation,
  WindowRef,
} from "./types.js";

export interface ResolveContext {
  file: string;
  text: string;
  /** Overrides the scenario's seed (the --seed option). */
  seed?: number | undefined;
  /** Where a document path is written; faults and checks carry their location. */
  locate: (path: DocPath) => SourceLocation;
}

export function resolveScenario(spec: ScenarioSpec, context: ResolveContext): ResolvedScenario {
  const names = Object.keys(spec.services ?? {});
  const services = Object.entries(spec.services ?? {}).map(([name, service]) => resolveService(name, service ?? {}, names, context));
  const load = resolveLoad(spec.load ?? {}, services, context.file);
  const byName = new Map(services.map((s) => [s.name, s]));
  const mtls = spec.mesh?.mtls ?? DEFAULTS.mesh.mtls;
  return {
    name: spec.name,
    description: spec.description ?? "",
    seed: context.seed ?? spec.seed ?? DEFAULTS.seed,
    dataPlane: spec.dataPlane ?? DEFAULTS.dataPlane,
    source: { file: context.file, text: context.text },
    services,
    mtls,
    policies: Object.fromEntries(services.map((s) => [s.name, resolvePolicy(spec.policies?.[s.name] ?? {}, s, mtls)])),
    load,
    faults: (spec.faults ?? []).map((fault, i) => resolveFault(fault, byName, load.durationMs, context.locate(["faults", i]))),
    checks: (spec.checks ?? []).map((check, i) => resolveCheck(check, context.locate(["checks", i]))),
    acknowledge: (spec.acknowledge ?? []).map((a) => (typeof a === "string" ? { warning: a, at: null } : { warning: a.warning, at: a.at ?? null })),
  };
}

function resolveService(name: string, spec: ServiceSpec, names: string[], context: ResolveContext): ResolvedService {
  const d = DEFAULTS.service;
  const httpPath = typeof spec.health === "string" && spec.health.startsWith("/") ? spec.health : undefined;
  const service: ResolvedService = {
    name,
    replicas: spec.replicas ?? d.replicas,
    calls: spec.calls ?? [],
    latency: parseDurationOrRange(spec.latency ?? d.latency),
    errorRate: spec.errorRate ?? d.errorRate,
    port: spec.port ?? d.port,
    health: httpPath ?? d.health,
  };
  if (spec.failFirst !== undefined && spec.failFirst > 0) service.failFirst = spec.failFirst;
  if (spec.protocol !== undefined && spec.protocol !== "http") service.protocol = spec.protocol;
  if (spec.versions !== undefined) {
    service.versions = resolveVersions(spec.versions, service);
    service.replicas = service.versions.reduce((sum, v) => sum + v.replicas.length, 0);
  }
  if (spec.dependsOn !== undefined && spec.dependsOn.length > 0) service.dependsOn = [...new Set(spec.dependsOn)];
  if (spec.resources !== undefined) service.resources = resolveResources(spec.resources);
  if (spec.image === undefined && spec.build === undefined) return service;

  const at = context.locate(["services", name]);
  const image: ResolvedImage = {
    source: spec.build === undefined ? { kind: "image", ref: spec.image! } : buildSource(spec.build, context.file),
    env: Object.fromEntries(Object.entries(spec.env ?? {}).map(([k, v]) => [k, String(v)])),
    command: spec.command ?? null,
    entrypoint: spec.entrypoint ?? null,
    user: spec.user ?? null,
    workingDir: spec.workingDir ?? null,
    // A user's app may not serve /healthz: without `health`, ready means its port accepts connections.
    readiness: readinessOf(spec.health),
    upstreams: [...names],
    origin: { file: at.file ?? context.file, line: at.line, col: at.col },
  };
  return { ...service, image };
}

function resolveResources(spec: NonNullable<ServiceSpec["resources"]>): NonNullable<ResolvedService["resources"]> {
  return {
    ...(spec.memory !== undefined ? { memoryBytes: parseMemorySize(spec.memory)! } : {}),
    ...(spec.pids !== undefined ? { pids: spec.pids } : {}),
  };
}

function readinessOf(health: HealthSpec | undefined): Readiness {
  if (health === undefined || health === "tcp") return { kind: "tcp" };
  if (typeof health === "string") return { kind: "http", path: health };
  return { kind: "exec", command: [...health.command] };
}

/** Build contexts are relative to the scenario's folder (imports.ts rebased the compose file's). */
function buildSource(build: BuildSpec, scenarioFile: string): ImageSource {
  const spec = typeof build === "string" ? { context: build } : build;
  return {
    kind: "build",
    context: isAbsolute(spec.context) ? spec.context : join(dirname(scenarioFile), spec.context),
    dockerfile: spec.dockerfile ?? "Dockerfile",
    args: Object.fromEntries(Object.entries(spec.args ?? {}).map(([k, v]) => [k, String(v)])),
    target: spec.target ?? null,
  };
}

/** Each version's replicas, numbered across versions in the order written; unset knobs are the service's. */
function resolveVersions(spec: NonNullable<ServiceSpec["versions"]>, service: ResolvedService): ResolvedVersion[] {
  let next = 0;
  return Object.entries(spec).map(([name, v]) => {
    const count = v?.replicas ?? DEFAULTS.service.replicas;
    const version: ResolvedVersion = {
      name,
      replicas: Array.from({ length: count }, () => next++),
      latency: v?.latency === undefined ? service.latency : parseDurationOrRange(v.latency),
      errorRate: v?.errorRate ?? service.errorRate,
    };
    const failFirst = v?.failFirst ?? service.failFirst;
    if (failFirst) version.failFirst = failFirst;
    return version;
  });
}

function resolvePolicy(spec: PolicySpec, service: ResolvedService, mtls: boolean): ResolvedPolicy {
  const { retries, circuitBreaker, outlierDetection, healthCheck, rateLimit } = spec;
  const outlier = DEFAULTS.outlierDetection;
  const health = DEFAULTS.healthCheck;
  return {
    timeoutMs: parseDuration(spec.timeout ?? DEFAULTS.policy.timeout),
    retries: retries
      ? {
      attempts: retries.attempts ?? DEFAULTS.retries.attempts,
      perTryTimeoutMs: retries.perTryTimeout === undefined ? null : parseDuration(retries.perTryTimeout),
      retryOn: (retries.retryOn ?? DEFAULTS.retries.retryOn).map((condition) => String(condition) as RetryOn),
      budget: retries.budget
        ? {
            ratio: retries.budget.ratio ?? DEFAULTS.retryBudget.ratio,
            minPerSecond: retries.budget.minPerSecond ?? DEFAULTS.retryBudget.minPerSecond,
            windowMs: parseDuration(retries.budget.window ?? DEFAULTS.retryBudget.window),
          }
        : null,
    }
      : null,
    circuitBreaker: circuitBreaker
      ? { maxConnections: circuitBreaker.maxConnections ?? null, maxPending: circuitBreaker.maxPending ?? null }
      : null,
    outlierDetection: outlierDetection
      ? {
          consecutive5xx: outlierDetection.consecutive5xx ?? outlier.consecutive5xx,
          intervalMs: parseDuration(outlierDetection.interval ?? outlier.interval),
          baseEjectionTimeMs: parseDuration(outlierDetection.baseEjectionTime ?? outlier.baseEjectionTime),
          maxEjectionPercent: (outlierDetection.maxEjectionPercent ?? outlier.maxEjectionPercent) / 100,
        }
      : null,
    loadBalancer: spec.loadBalancer ?? DEFAULTS.policy.loadBalancer,
    healthCheck: healthCheck
      ? {
          path: healthCheck.path ?? service.health,
          intervalMs: parseDuration(healthCheck.interval ?? health.interval),
          unhealthyAfter: healthCheck.unhealthyAfter ?? health.unhealthyAfter,
          healthyAfter: healthCheck.healthyAfter ?? health.healthyAfter,
        }
      : null,
    rateLimit: rateLimit
      ? { requestsPerSecond: rateLimit.requestsPerSecond, burst: rateLimit.burst ?? Math.ceil(rateLimit.requestsPerSecond) }
      : null,
    tls: spec.tls?.mode ?? (mtls ? "mutual" : "disable"),
    ...(spec.split ? { split: Object.fromEntries(Object.entries(spec.split).map(([v, w]) => [v, w / 100])) } : {}),
    ...(spec.routes?.length ? { routes: spec.routes.map((r) => ({ match: "path" in r.match ? { path: r.match.path } : { header: r.match.header.toLowerCase(), value: r.match.value }, to: r.to })) } : {}),
  };
}

/**
 * The open model's default cap on requests in flight: every request of a whole timeout's worth
 * of load (rate × timeout), so it binds only when the system holds every request until it times
 * out. At least 16; at most MAX_DEFAULT_IN_FLIGHT, one connection each.
 */
export function defaultMaxInFlight(rate: number, timeoutMs: number): number {
  return Math.min(MAX_DEFAULT_IN_FLIGHT, Math.max(16, Math.ceil((rate * timeoutMs) / 1000)));
}

/**
 * The generator lag an open load tolerates at p99 by default: the mean gap between requests, so
 * that requests still leave in order and evenly spaced, at least 1 ms and at most 10 ms. Lag
 * only ever adds to measured latency (it is counted from the scheduled time), never hides any.
 */
export function defaultMaxLagMs(rate: number): number {
  return Math.min(10, Math.max(1, 1000 / rate));
}

/** Sockets the generator may hold open by default: well inside a process's usual 65k file descriptors, with room for the rest of the harness. */
export const MAX_DEFAULT_IN_FLIGHT = 20_000;

/**
 * The load's protocol: what the scenario says, else http. A grpc target with an HTTP load is an
 * error (cross-check.ts), not a default: a gRPC load also needs its method.
 */
export function loadProtocol(spec: LoadSpec, _services: readonly ResolvedService[]): LoadProtocol {
  return spec.protocol ?? "http";
}

/** A gRPC load's call, with its proto as an absolute path (relative to the scenario file). */
function resolveGrpcCall(spec: LoadSpec, scenarioFile: string): GrpcCall {
  return {
    method: spec.method ?? "",
    message: spec.message ?? {},
    metadata: Object.fromEntries(Object.entries(spec.metadata ?? {}).map(([name, value]) => [name.toLowerCase(), value])),
    protoFile: spec.proto === undefined ? FIXTURE_PROTO_FILE : resolvePath(dirname(scenarioFile), spec.proto),
  };
}

function resolveLoad(spec: LoadSpec, services: ResolvedService[], scenarioFile: string): ResolvedLoad {
  const d = DEFAULTS.load;
  const protocol = loadProtocol(spec, services);
  const grpc = protocol === "grpc" ? resolveGrpcCall(spec, scenarioFile) : null;
  // A gRPC load is one request, POST /package.Service/Method: its path names it wherever a request's path does.
  const requests: RequestTemplate[] = grpc
    ? [{ method: "POST", path: `/${grpc.method}`, headers: grpc.metadata, body: null, weight: 1 }]
    : (spec.requests ?? [{}]).map((r) => ({
        method: r.method ?? d.request.method,
        path: r.path ?? d.request.path,
        headers: r.headers ?? {},
        body: r.body ?? null,
        weight: r.weight ?? d.request.weight,
      }));
  const model = spec.model ?? (spec.connections === undefined ? d.model : "closed");
  const rate = spec.rate ?? d.rate;
  const timeoutMs = parseDuration(spec.timeout ?? d.timeout);
  const connections = spec.connections ?? d.connections;
  const maxInFlight = model === "closed" ? connections : (spec.maxInFlight ?? defaultMaxInFlight(rate, timeoutMs));
  return {
    target: spec.target ?? services[0]?.name ?? "",
    model,
    rate,
    arrivals: spec.arrivals ?? d.arrivals,
    maxInFlight,
    connections: model === "closed" ? connections : maxInFlight,
    timeoutMs,
    maxLagMs: spec.maxLag === undefined ? defaultMaxLagMs(rate) : parseDuration(spec.maxLag),
    durationMs: parseDuration(spec.duration ?? d.duration),
    protocol,
    requests,
    grpc,
  };
}

function resolveFault(
  spec: FaultSpec,
  services: Map<string, ResolvedService>,
  loadMs: number,
  location: SourceLocation,
): ResolvedFault {
  const atMs = parseDuration(spec.at ?? DEFAULTS.fault.at);
  // Without a duration a fault lasts until the load ends.
  const durationMs = spec.duration === undefined ? Math.max(0, loadMs - atMs) : parseDuration(spec.duration);
  const timing = { atMs, durationMs, location };

  if (spec.kind === "shift") {
    const split = Object.fromEntries(Object.entries(spec.split).map(([v, w]) => [v, w / 100]));
    const scope = { target: spec.target, replicas: allReplicas(services, spec.target) };
    return { name: spec.name, kind: spec.kind, ...scope, from: null, match: null, probability: 1, ...timing, attributes: { split } };
  }
  if (spec.kind === "partition") {
    const between = spec.between.map(parseEndpoint) as [Endpoint, Endpoint];
    const [first] = between;
    const replicas = first.replica === null ? allReplicas(services, first.service) : [first.replica];
    const attributes = { between, direction: spec.direction ?? DEFAULTS.fault.partitionDirection };
    return { name: spec.name, kind: spec.kind, target: first.service, replicas, from: null, match: null, probability: 1, ...timing, attributes };
  }

  const all = allReplicas(services, spec.target);
  const ofVersion = spec.version === undefined ? undefined : services.get(spec.target)?.versions?.find((v) => v.name === spec.version)?.replicas;
  const replicas = spec.replicas
    ? [...new Set(spec.replicas)].sort((a, b) => a - b)
    : ofVersion
      ? [...ofVersion]
      : all.slice(0, spec.count ?? all.length);
  const scope = { target: spec.target, replicas };
  // Whole-pod faults: every request, from every caller.
  const wholePod = { name: spec.name, ...scope, from: null, match: null, probability: 1, ...timing };
  if (spec.kind === "kill") return { ...wholePod, kind: spec.kind, attributes: { restart: spec.restart ?? DEFAULTS.fault.killRestart } };
  if (spec.kind === "bandwidth") return { ...wholePod, kind: spec.kind, attributes: { rate: spec.rate } };
  if (spec.kind === "pause") return { ...wholePod, kind: spec.kind, attributes: {} };

  const perRequest = {
    ...scope,
    from: spec.edge?.from ?? null,
    match: spec.match ?? null,
    probability: (spec.percent ?? DEFAULTS.fault.percent) / 100,
    ...timing,
  };
  switch (spec.kind) {
    case "abort":
      return {
        name: spec.name,
        kind: spec.kind,
        ...perRequest,
        status: spec.status ?? DEFAULTS.fault.abortStatus,
        ...(services.get(spec.target)?.protocol === "grpc" ? { grpcStatus: spec.grpcStatus ?? DEFAULT_ABORT_GRPC_STATUS } : {}),
      };
    case "delay":
      return { name: spec.name, kind: spec.kind, ...perRequest, delay: parseDurationOrRange(spec.delay) };
    case "ratelimit":
      return { name: spec.name, kind: spec.kind, ...perRequest, attributes: { retryAfterMs: parseDuration(spec.retryAfter ?? DEFAULTS.fault.retryAfter) } };
    case "blackhole":
    case "reset":
      return { name: spec.name, kind: spec.kind, ...perRequest, attributes: {} };
  }
}

function resolveCheck(spec: CheckSpec, location: SourceLocation): ResolvedCheck {
  if ("slo" in spec) {
    const expression = parseSloExpression(spec.slo);
    const window = parseWindow(spec.window ?? DEFAULTS.checkWindow);
    return { kind: "slo", name: `${expression.source} @ ${windowName(window)}`, expression, window, location };
  }
  const params: Record<string, unknown> = {};
  if (spec.edge) params.edge = { from: spec.edge.from, to: spec.edge.to };
  if (spec.target !== undefined) params.target = parseEndpoint(spec.target);
  if (spec.fault !== undefined) params.fault = spec.fault;
  if (spec.within !== undefined) params.withinMs = parseDuration(spec.within);
  if (spec.max !== undefined) params.max = numberOrFraction(spec.max);
  if (spec.min !== undefined) params.min = numberOrFraction(spec.min);
  if (spec.slos !== undefined) params.slos = spec.slos.map(parseSloExpression);
  if (spec.path !== undefined) params.path = spec.path;
  if (spec.tolerance !== undefined) params.tolerance = numberOrFraction(spec.tolerance);
  if (spec.version !== undefined) params.version = spec.version;
  const subject = spec.edge
    ? `${spec.edge.from} → ${spec.edge.to}`
    : spec.target !== undefined && spec.version !== undefined
      ? `${spec.target} ${spec.version}`
      : (spec.target ?? spec.path ?? (spec.fault === undefined ? undefined : `fault:${spec.fault}`));
  return {
    kind: "property",
    name: subject === undefined ? spec.property : `${spec.property} ${subject}`,
    property: spec.property,
    params,
    location,
  };
}

function parseWindow(text: string): WindowRef {
  const [, kind, fault] = WINDOW_PATTERN.exec(text) ?? [];
  if (fault !== undefined && (kind === "fault" || kind === "recovery")) return { kind, fault };
  return text === "baseline" ? { kind: "baseline" } : { kind: "whole" };
}

function windowName(window: WindowRef): string {
  return window.kind === "whole" || window.kind === "baseline" ? window.kind : `${window.kind}:${window.fault}`;
}

function parseEndpoint(text: string): Endpoint {
  const [, service = text, replica] = ENDPOINT_PATTERN.exec(text) ?? [];
  return { service, replica: replica === undefined ? null : Number(replica) };
}

function allReplicas(services: Map<string, ResolvedService>, name: string): number[] {
  return Array.from({ length: services.get(name)?.replicas ?? 0 }, (_, i) => i);
}

/** "99%" → 0.99; numbers stay as written. */
function numberOrFraction(value: number | string): number {
  return typeof value === "number" ? value : Number(value.slice(0, -1)) / 100;
}
