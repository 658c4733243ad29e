// Istio VirtualService + DestinationRule → meshquake policies (per destination service) and
// faults; a Kubernetes Service → the protocol of the service it names (istio-service.ts). A user checks the traffic policy they run in a cluster, locally. Every field is either
// mapped (docs/istio.md has the table) or reported with the reason it is not, located in the
// Istio file. Istio semantics that differ from meshquake's are reproduced or warned about.
import { formatDuration } from "./duration.js";
import { error, warning, type Finding } from "./finding.js";
import { serviceProtocol } from "./istio-service.js";
import type { DocPath } from "./locate.js";
import { GRPC_STATUS_NAMES, grpcStatusCode, grpcStatusName, grpcStatusOfHttp } from "../model/grpc-status.js";
import { GRPC_RETRY_CODES, isGrpcRetryOn, speaksH2, type Protocol } from "./protocols.js";
import { asList, asMap } from "./scenario-parts.js";
import { fileProblem, parseYamlFile, problemIn, readReferenced, type FileReader, type SourceFile } from "./source-file.js";
import { ROUTE_HEADER, ROUTE_PATH, ROUTE_TEXT, type FaultSpec, type PolicySpec } from "./spec.js";
import type { Problem } from "./types.js";
import { describeValue, quoteList } from "./wording.js";

/** A value the import produced, and where it is written (so later findings point there). */
export interface Origin {
  source: SourceFile;
  path: DocPath;
}

export interface IstioImport {
  /** Per destination service, the policy as a scenario would write it. */
  policies: Record<string, PolicySpec>;
  /** Faults from VirtualService `fault` blocks; each spans the whole load. */
  faults: FaultSpec[];
  problems: Problem[];
  /** "payments" → the resource it came from; "payments.retries.attempts" → where that field is written. */
  policyOrigins: Map<string, Origin>;
  faultOrigins: Origin[];
  /** Per service, the protocol a Kubernetes Service states for it, and where. */
  protocols: Record<string, Protocol>;
  protocolOrigins: Map<string, Origin>;
}

/** Where a VirtualService names a subset. */
interface SubsetRef {
  subset: string;
  path: DocPath;
}

/** A catch-all route's weights per subset (adding up to 100), imported once the subsets are known. */
interface PendingSplit {
  service: string;
  weights: Record<string, number>;
  refs: SubsetRef[];
  path: DocPath;
  ctx: ResourceContext;
}

/** One match of a route to one subset. */
interface PendingRoute {
  service: string;
  route: NonNullable<PolicySpec["routes"]>[number];
  ref: SubsetRef;
  path: DocPath;
  ctx: ResourceContext;
}

interface Traffic {
  /** Per service, the subsets its (first) DestinationRule defines. */
  subsets: Map<string, string[]>;
  splits: PendingSplit[];
  routes: PendingRoute[];
}

/**
 * Istio's default retry policy, applied to every HTTP route without `retries` (and its retryOn to
 * retries without one): 2 retries on connect-failure, refused-stream, unavailable, cancelled and
 * retriable-status-codes (503). unavailable and cancelled are gRPC conditions, kept for a grpc
 * destination; refused-stream (an HTTP/2 REFUSED_STREAM) has no meshquake condition.
 */
export const ISTIO_DEFAULT_ATTEMPTS = 3;
const ISTIO_DEFAULT_ON = "connect-failure, refused-stream, unavailable, cancelled and 503";

export function istioDefaultRetryOn(protocol: Protocol): Array<"connect-failure" | "503" | "unavailable" | "cancelled"> {
  return protocol === "grpc" ? ["connect-failure", "503", "unavailable", "cancelled"] : ["connect-failure", "503"];
}

/** Why Istio's default conditions import as istioDefaultRetryOn says, for this destination. */
function defaultRetryOnNote(service: string, protocol: Protocol): string {
  const grpc = protocol === "grpc" ? "" : `unavailable and cancelled are gRPC conditions, and "${service}" speaks ${protocol}; `;
  return `${grpc}refused-stream has no meshquake condition`;
}

/** Envoy retry-on conditions (what Istio's retryOn passes through) → meshquake's. */
const RETRY_ON: Record<string, { to: string[]; note?: string } | { unsupported: string }> = {
  "5xx": { to: ["5xx"] },
  "gateway-error": { to: ["502", "503", "504"] },
  reset: { to: ["reset"] },
  "reset-before-request": { to: ["reset"], note: "reset-before-request is imported as reset, which also retries resets after the request was sent" },
  "connect-failure": { to: ["connect-failure"] },
  "retriable-4xx": { to: ["409"] },
  "refused-stream": { unsupported: "meshquake has no condition for an HTTP/2 REFUSED_STREAM alone (and an http service's HTTP/1.1 hops have no streams)" },
  "retriable-status-codes": {
    unsupported: "it refers to the x-envoy-retriable-status-codes header or the route's retriable status codes; write the codes themselves in retryOn (e.g. \"503\")",
  },
  "retriable-headers": { unsupported: "retrying on response headers is not modelled" },
  "envoy-ratelimited": { unsupported: "no Envoy rate limiter runs in meshquake's mesh" },
  "http3-post-connect-failure": { unsupported: "meshquake's hops are never HTTP/3 (HTTP/1.1, or HTTP/2 for http2 and grpc services)" },
  // gRPC conditions (cancelled, deadline-exceeded, internal, resource-exhausted, unavailable) keep
  // their names when the destination speaks grpc: see retryOnOf.
};

const LOAD_BALANCERS: Record<string, PolicySpec["loadBalancer"] | null> = {
  ROUND_ROBIN: "round-robin",
  LEAST_REQUEST: "least-request",
  LEAST_CONN: "least-request",
  RANDOM: "random",
  UNSPECIFIED: null,
};

const VS_ROUTE_UNSUPPORTED: Record<string, string> = {
  redirect: "redirects are not modelled",
  directResponse: "direct responses are not modelled",
  delegate: "delegated VirtualServices are not imported",
  rewrite: "rewrites are not modelled: the request reaches the destination as the app sent it",
  mirror: "mirroring is not modelled",
  mirrors: "mirroring is not modelled",
  mirrorPercentage: "mirroring is not modelled",
  mirrorPercent: "mirroring is not modelled",
  corsPolicy: "CORS is not modelled",
  headers: "header manipulation is not modelled",
};

const DR_UNSUPPORTED: Record<string, string> = {
  tls: "meshquake's mesh is plaintext (HTTP/1.1, or h2c for http2 and grpc services); TLS settings are not modelled",
  portLevelSettings: "meshquake meshes one port per service; apply the settings at trafficPolicy level",
  tunnel: "tunnelling is not modelled",
  proxyProtocol: "the PROXY protocol is not modelled",
};

/**
 * `versions` names each service's versions as the scenario writes them (services.<s>.versions):
 * a subset is imported only as a version of that name. `protocols` holds the protocols the
 * scenario states; they win over a Service's, and decide how gRPC retry conditions,
 * Istio's default retries, aborts and connection limits import.
 */
export function importIstio(
  files: readonly string[],
  read: FileReader,
  services: readonly string[],
  versions: Readonly<Record<string, readonly string[]>> = {},
  protocols: Readonly<Record<string, Protocol>> = {},
): IstioImport {
  const result: IstioImport = { policies: {}, faults: [], problems: [], policyOrigins: new Map(), faultOrigins: [], protocols: {}, protocolOrigins: new Map() };
  const seenHosts: Seen = { vs: new Map(), dr: new Map(), svc: new Map() };
  const protocolOf = (service: string): Protocol => protocols[service] ?? result.protocols[service] ?? "http";
  const traffic: Traffic = { subsets: new Map(), splits: [], routes: [] };
  const perFile: Array<{ problems: Problem[]; resources: Array<{ source: SourceFile; findings: Finding[] }> }> = [];
  for (const file of files) {
    const entry: (typeof perFile)[number] = { problems: [], resources: [] };
    perFile.push(entry);
    const text = readReferenced(read, file);
    if ("missing" in text || "refused" in text) {
      entry.problems.push(fileProblem(file, "refused" in text ? text.refused : "no such file (policies.istio names it)"));
      continue;
    }
    const parsed = parseYamlFile(file, text.text, { multiDocument: true });
    entry.problems.push(...parsed.problems);
    const nonEmpty = parsed.documents.filter((d) => d.doc.contents !== null);
    if (parsed.problems.length === 0 && nonEmpty.length === 0) entry.problems.push(fileProblem(file, "the file holds no Istio resource"));
    entry.resources.push(...nonEmpty.map((source) => ({ source, findings: [] as Finding[] })));
  }
  // Services first: what a destination speaks decides how its retries, aborts and limits import.
  const resources = perFile.flatMap((entry) => entry.resources);
  const isService = (r: (typeof resources)[number]) => asMap(r.source.data).kind === "Service";
  for (const { source, findings } of [...resources.filter(isService), ...resources.filter((r) => !isService(r))]) {
    importResource(source, { services, protocolOf }, result, seenHosts, traffic, findings);
  }
  resolveSubsets(traffic, versions);
  for (const { problems, resources } of perFile) {
    const located = resources.flatMap(({ source, findings }) => findings.map((f) => problemIn(source, f)));
    result.problems.push(...problems, ...located.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  return result;
}

/**
 * A subset is imported as the version of that name: the DestinationRule for the host must define
 * it (else Istio has nowhere to send), and the scenario must have the version. A split with one
 * subset missing is not imported at all; a route, alone.
 */
function resolveSubsets(traffic: Traffic, versions: Readonly<Record<string, readonly string[]>>): void {
  const missing = (service: string, ref: SubsetRef, ctx: ResourceContext, what: string): boolean => {
    const defined = traffic.subsets.get(service);
    const known = versions[service] ?? [];
    let why: string | null = null;
    if (defined === undefined) why = `subset "${ref.subset}" is not defined: no DestinationRule for "${service}" is imported`;
    else if (!defined.includes(ref.subset)) {
      const its = defined.length === 0 ? "it defines none" : `its subsets: ${quoteList(defined)}`;
      why = `subset "${ref.subset}" is not defined by the DestinationRule for "${service}" (${its})`;
    }
    else if (!known.includes(ref.subset)) {
      why =
        `subset "${ref.subset}" is not a version of "${service}" in the scenario: add versions: { ${ref.subset}: {...} } to services.${service} ` +
        "(versions are matched by subset name)";
    }
    if (why !== null) ctx.findings.push(warning(ref.path, `${why}; ${what} is not imported`));
    return why !== null;
  };
  for (const split of traffic.splits) {
    const { service, ctx } = split;
    const unknown = split.refs.filter((ref) => missing(service, ref, ctx, "this split"));
    if (unknown.length > 0) continue;
    policyFor(service, ctx).split = split.weights;
    origin(ctx, `${service}.split`, split.path);
  }
  for (const pending of traffic.routes) {
    const { service, ctx } = pending;
    if (missing(service, pending.ref, ctx, "this route")) continue;
    const policy = policyFor(service, ctx);
    policy.routes = [...(policy.routes ?? []), pending.route];
    if (policy.routes.length === 1) origin(ctx, `${service}.routes`, pending.path);
    origin(ctx, `${service}.routes.${policy.routes.length - 1}`, pending.path);
  }
}

interface Seen {
  vs: Map<string, Origin>;
  dr: Map<string, Origin>;
  svc: Map<string, Origin>;
}

function importResource(
  source: SourceFile,
  scenario: { services: readonly string[]; protocolOf: (service: string) => Protocol },
  out: IstioImport,
  seen: Seen,
  traffic: Traffic,
  findings: Finding[],
): void {
  const { services, protocolOf } = scenario;
  const data = asMap(source.data);
  const kind = data.kind;
  const name = String(asMap(data.metadata).name ?? "unnamed");
  const apiVersion = String(data.apiVersion ?? "");
  if (kind === "Service") {
    importService(source, data, services, out, seen.svc, findings);
    return;
  }
  if (kind !== "VirtualService" && kind !== "DestinationRule") {
    findings.push(warning(["kind"], `kind ${describeValue(kind)} is not imported: only VirtualService, DestinationRule and Service are`));
    return;
  }
  if (!apiVersion.startsWith("networking.istio.io/")) {
    findings.push(error(["apiVersion"], `expected apiVersion networking.istio.io/v1 (or v1beta1, v1alpha3), found ${describeValue(data.apiVersion)}`));
    return;
  }
  const spec = asMap(data.spec);
  const resource = `${kind} ${name}`;
  const ctx: ResourceContext = { source, services, protocolOf, out, traffic, findings, resource, name };
  if (kind === "VirtualService") importVirtualService(spec, ctx, seen.vs);
  else importDestinationRule(spec, ctx, seen.dr);
}

/** A Service's protocol, once per service (the first Service read wins, as for the other kinds). */
function importService(source: SourceFile, data: Record<string, unknown>, services: readonly string[], out: IstioImport, seen: Map<string, Origin>, findings: Finding[]): void {
  const stated = serviceProtocol(data, services, findings);
  if (stated === null) return;
  const previous = seen.get(stated.service);
  if (previous) {
    findings.push(warning(["metadata", "name"], `"${stated.service}" already takes its protocol from ${previous.source.file}:${lineOf(previous)}; not imported again`));
    return;
  }
  seen.set(stated.service, { source, path: ["metadata", "name"] });
  out.protocols[stated.service] = stated.protocol;
  out.protocolOrigins.set(stated.service, { source, path: stated.path });
}

interface ResourceContext {
  source: SourceFile;
  services: readonly string[];
  /** What a service speaks: the scenario's protocol, else a Service's, else http. */
  protocolOf: (service: string) => Protocol;
  out: IstioImport;
  traffic: Traffic;
  findings: Finding[];
  /** "VirtualService payments" */
  resource: string;
  name: string;
}

/** "payments", "payments.shop", "payments.shop.svc.cluster.local" → "payments"; null when no service has that name. */
function serviceOfHost(host: unknown, path: DocPath, ctx: ResourceContext): string | null {
  if (typeof host !== "string" || host === "") {
    ctx.findings.push(error(path, `expected a host name, found ${describeValue(host)}`));
    return null;
  }
  if (host.includes("*")) {
    ctx.findings.push(warning(path, `wildcard host ${JSON.stringify(host)} is not imported: name one service`));
    return null;
  }
  const service = host.split(".")[0]!;
  if (!ctx.services.includes(service)) {
    ctx.findings.push(
      warning(path, `host ${JSON.stringify(host)} names no service of this scenario, so this is not imported. Services: ${quoteList(ctx.services)}.`),
    );
    return null;
  }
  return service;
}

function policyFor(service: string, ctx: ResourceContext): PolicySpec {
  ctx.out.policies[service] ??= {};
  return ctx.out.policies[service]!;
}

function origin(ctx: ResourceContext, key: string, path: DocPath): void {
  ctx.out.policyOrigins.set(key, { source: ctx.source, path });
}

// --- VirtualService ------------------------------------------------------------------------

function importVirtualService(spec: Record<string, unknown>, ctx: ResourceContext, seen: Map<string, Origin>): void {
  const { findings } = ctx;
  const gateways = asList(spec.gateways).map(String);
  if (gateways.length > 0 && !gateways.includes("mesh")) {
    findings.push(warning(["spec", "gateways"], `applies to gateways ${quoteList(gateways)} only, not to the mesh's sidecars; not imported`));
    return;
  }
  for (const key of Object.keys(spec)) {
    if (key === "tcp" || key === "tls") {
      const what = key === "tcp" ? "raw TCP" : "TLS-routed";
      findings.push(warning(["spec", key], `${key} routes are not imported: meshquake meshes plaintext HTTP (http, http2 and grpc services), not ${what} traffic`, { at: "key" }));
    }
    else if (key === "exportTo") findings.push(warning(["spec", key], "exportTo is not modelled: the run has one namespace", { at: "key" }));
    else if (!["hosts", "http", "gateways"].includes(key)) findings.push(warning(["spec", key], `${key} is not supported by meshquake; ignored`, { at: "key" }));
  }
  const routes = asList(spec.http);
  if (routes.length === 0) {
    findings.push(warning(["spec"], `${ctx.resource} has no http routes: nothing to import`, { at: "key" }));
    return;
  }
  // One policy per destination: the catch-all route (the first without match) stands for the host.
  const found = routes.findIndex((r) => asMap(r).match === undefined);
  const chosen = Math.max(0, found);
  const path: DocPath = ["spec", "http", chosen];
  const route = asMap(routes[chosen]);
  const { services, split } = destinationsOf(route, spec, path, found >= 0, ctx);
  const owned: string[] = [];
  for (const [service, at] of services) {
    const previous = seen.get(service);
    if (previous) {
      findings.push(warning(at, `"${service}" already takes its route policy from ${previous.source.file}:${lineOf(previous)}; not imported again`));
      continue;
    }
    seen.set(service, { source: ctx.source, path });
    owned.push(service);
    importRoute(service, route, path, ctx);
    if (found < 0) {
      findings.push(
        warning(
          [...path, "match"],
          `no route of ${ctx.resource} is without match, so meshquake applies this route's timeout, retries and faults to every request to ` +
            `${service}; Istio answers 404 to requests no route matches`,
          { at: "key" },
        ),
      );
    }
  }
  if (split !== null && owned.includes(split.service)) ctx.traffic.splits.push({ ...split, ctx });
  // Routes with a match come before the catch-all (first match wins, in Istio and meshquake); after it they are never reached.
  const hostServices = asList(spec.hosts).map(quietServiceOfHost(ctx.services));
  routes.forEach((r, i) => {
    if (found >= 0 && i > chosen) {
      findings.push(warning(["spec", "http", i], `route http[${i}] is not imported: http[${chosen}] has no match and takes every request before it, in Istio too`));
    } else if (found < 0 || i < chosen) {
      importMatchRoute(asMap(r), ["spec", "http", i], { index: i, chosen, owned, hostServices }, ctx);
    }
  });
}

function lineOf(o: Origin): number {
  const node = o.source.doc.getIn(o.path, true) as { range?: [number] } | undefined;
  return o.source.lines.linePos(node?.range?.[0] ?? 0).line;
}

/** "payments.shop" → "payments" when the scenario has that service, else null; says nothing. */
function quietServiceOfHost(services: readonly string[]): (host: unknown) => string | null {
  return (host) => {
    const service = typeof host === "string" && !host.includes("*") ? host.split(".")[0]! : null;
    return service !== null && services.includes(service) ? service : null;
  };
}

/**
 * The route's destinations as services (or the VirtualService's own hosts when the route names
 * none) and, for a catch-all route to subsets of one service, its split. Istio weighs each
 * destination weight/(sum of weights); meshquake's split is in percent, so only a sum of 100 is imported.
 */
function destinationsOf(
  route: Record<string, unknown>,
  spec: Record<string, unknown>,
  path: DocPath,
  catchAll: boolean,
  ctx: ResourceContext,
): { services: Array<[string, DocPath]>; split: Omit<PendingSplit, "ctx"> | null } {
  const out: Array<[string, DocPath]> = [];
  const targets = asList(route.route).map((target, j) => {
    const destination = asMap(asMap(target).destination);
    const at: DocPath = [...path, "route", j, "destination"];
    const service = serviceOfHost(destination.host, [...at, "host"], ctx);
    if (service !== null && !out.some(([s]) => s === service)) out.push([service, [...at, "host"]]);
    return { service, subset: destination.subset, weight: asMap(target).weight, at, j };
  });
  if (targets.length === 0) {
    asList(spec.hosts).forEach((host, k) => {
      const service = serviceOfHost(host, ["spec", "hosts", k], ctx);
      if (service !== null && !out.some(([s]) => s === service)) out.push([service, ["spec", "hosts", k]]);
    });
  }
  // A route with a match is imported as routes (importMatchRoute), which say what of it is not.
  if (!catchAll || targets.length === 0) return { services: out, split: null };
  const oneService = targets.every((t) => t.service !== null && t.service === targets[0]!.service);
  const withSubset = targets.filter((t) => t.subset !== undefined);
  if (!oneService) {
    if (targets.length > 1) {
      ctx.findings.push(
        warning([...path, "route"], "traffic split across services is not modelled: each destination gets this route's policy, and load is not weighted"),
      );
    }
    for (const t of withSubset) {
      ctx.findings.push(warning([...t.at, "subset"], "subset is not imported: this route splits between services, so every version of the service is a destination", { at: "key" }));
    }
    return { services: out, split: null };
  }
  const service = targets[0]!.service!;
  if (withSubset.length === 0) {
    if (targets.length > 1) {
      ctx.findings.push(warning([...path, "route"], "traffic split across destinations without subsets is not modelled: each replica gets an equal share"));
    }
    return { services: out, split: null };
  }
  if (withSubset.length < targets.length) {
    ctx.findings.push(
      warning([...path, "route"], `a split between subsets and the whole of "${service}" is not imported: give every destination a subset (a version of the service)`),
    );
    return { services: out, split: null };
  }
  const weights: Record<string, number> = {};
  const refs: SubsetRef[] = [];
  let valid = true;
  for (const t of targets) {
    const subset = subsetName(t.subset, [...t.at, "subset"], ctx);
    // Istio: a lone destination takes every request whatever its weight; among several, an unset weight is 0.
    const weight = targets.length === 1 ? 100 : t.weight === undefined ? 0 : wholeNumber(t.weight, [...path, "route", t.j, "weight"], 0, ctx.findings);
    if (subset === null || weight === null) {
      valid = false;
      continue;
    }
    weights[subset] = (weights[subset] ?? 0) + weight;
    refs.push({ subset, path: [...t.at, "subset"] });
  }
  if (!valid) return { services: out, split: null };
  const sum = Object.values(weights).reduce((a, b) => a + b, 0);
  if (sum !== 100) {
    const percents = Object.entries(weights).map(([v, w]) => `${v}: ${sum === 0 ? 0 : Math.round((w / sum) * 10_000) / 100}`);
    ctx.findings.push(
      warning(
        [...path, "route"],
        `the weights add up to ${sum}: Istio sends each destination weight/${sum} of the requests, and a meshquake split is in percent, adding ` +
          `up to 100; the split is not imported. Write it in the scenario as policies.${service}.split: { ${percents.join(", ")} }`,
      ),
    );
    return { services: out, split: null };
  }
  return { services: out, split: { service, weights, refs, path: [...path, "route"] } };
}

function subsetName(value: unknown, path: DocPath, ctx: ResourceContext): string | null {
  if (typeof value === "string" && value !== "") return value;
  ctx.findings.push(error(path, `expected a subset name, found ${describeValue(value)}`));
  return null;
}

const MATCH_UNSUPPORTED: Record<string, string> = {
  queryParams: "a meshquake route matches a header or a path, not query parameters",
  method: "a meshquake route matches a header or a path, not the method",
  scheme: "a meshquake route matches a header or a path, not the scheme",
  authority: "a meshquake route matches a header or a path, not the authority",
  withoutHeaders: "a meshquake route matches a header present with a value, not an absent one",
  ignoreUriCase: "a meshquake path route is case-sensitive",
  port: "meshquake meshes one port per service",
  sourceLabels: "a meshquake route applies to every caller",
  sourceNamespace: "the run has one namespace",
  gateways: "a meshquake route applies in the mesh's sidecars",
};

/**
 * A route with a match whose destination is one subset → policies.<s>.routes, one per match
 * (Istio ORs the matches of a route; each match holds one condition here). Its timeout, retries
 * and faults are not imported: the catch-all route's stand for the service.
 */
function importMatchRoute(
  route: Record<string, unknown>,
  path: DocPath,
  vs: { index: number; chosen: number; owned: readonly string[]; hostServices: readonly (string | null)[] },
  ctx: ResourceContext,
): void {
  const { findings } = ctx;
  const policyImported = vs.index === vs.chosen;
  if (!policyImported) {
    for (const key of Object.keys(route)) {
      if (key === "match" || key === "route" || key === "name") continue;
      const why =
        VS_ROUTE_UNSUPPORTED[key] ??
        (["timeout", "retries", "fault"].includes(key) ? `meshquake applies one policy per destination, taken from http[${vs.chosen}]` : undefined);
      findings.push(warning([...path, key], why ? `${key} is not imported: ${why}` : `${key} is not supported by meshquake; ignored`, { at: "key" }));
    }
  }
  const targets = asList(route.route);
  if (targets.length === 0) return;
  if (targets.length > 1) {
    findings.push(warning([...path, "route"], "a split under a match is not imported: a meshquake route sends what matches to one version"));
    return;
  }
  const at: DocPath = [...path, "route", 0, "destination"];
  const destination = asMap(asMap(targets[0]).destination);
  // The catch-all route's destinations were reported already.
  const service = policyImported ? quietServiceOfHost(ctx.services)(destination.host) : serviceOfHost(destination.host, [...at, "host"], ctx);
  if (service === null) return;
  if (!vs.hostServices.includes(service)) {
    const hosts = vs.hostServices.filter((h) => h !== null);
    findings.push(
      warning(
        [...at, "host"],
        `a route to another service is not imported: a meshquake route sends to a version of the service called` + (hosts.length > 0 ? ` (${quoteList(hosts)})` : ""),
      ),
    );
    return;
  }
  if (!vs.owned.includes(service)) {
    findings.push(warning([...at, "host"], `"${service}" takes no policy from http[${vs.chosen}] of ${ctx.resource}, so this route is not imported either`));
    return;
  }
  if (destination.subset === undefined) {
    findings.push(warning(at, `a route to every version of "${service}" (no subset) is not imported: a meshquake route sends what matches to one version`));
    return;
  }
  const subset = subsetName(destination.subset, [...at, "subset"], ctx);
  if (subset === null) return;
  asList(route.match).forEach((m, k) => {
    const match = matchOf(asMap(m), [...path, "match", k], findings);
    if (match !== null) ctx.traffic.routes.push({ service, route: { match, to: subset }, ref: { subset, path: [...at, "subset"] }, path: [...path, "match", k], ctx });
  });
}

type RouteMatch = NonNullable<PolicySpec["routes"]>[number]["match"];

/** One condition: a header's exact value, or a path prefix. Anything else is reported, and the match skipped. */
function matchOf(match: Record<string, unknown>, path: DocPath, findings: Finding[]): RouteMatch | null {
  const refused = Object.keys(match).filter((key) => !["headers", "uri", "name", "statPrefix"].includes(key));
  for (const key of refused) {
    const why = MATCH_UNSUPPORTED[key] ?? "not a match condition meshquake knows";
    findings.push(warning([...path, key], `${key} is not imported: ${why}; this match is skipped`, { at: "key" }));
  }
  if (refused.length > 0) return null;
  const headers = Object.entries(asMap(match.headers));
  const conditions = headers.length + (match.uri === undefined ? 0 : 1);
  if (conditions !== 1) {
    findings.push(
      warning(
        path,
        conditions === 0
          ? "a match without conditions is not imported: write the catch-all route without match"
          : `several conditions in one match (all must hold) are not imported: a meshquake route matches one header or one path prefix`,
      ),
    );
    return null;
  }
  if (headers.length === 1) {
    const [name, condition] = headers[0]!;
    const at: DocPath = [...path, "headers", name];
    const kinds = Object.keys(asMap(condition));
    const exact = asMap(condition).exact;
    if (kinds.length !== 1 || exact === undefined) {
      const kind = kinds.find((k) => k !== "exact") ?? "";
      findings.push(warning(kinds.length === 0 ? at : [...at, kind], `header ${JSON.stringify(name)} ${kind || "match"} is not imported: a meshquake route matches a header's exact value`, { at: "key" }));
      return null;
    }
    const value = typeof exact === "number" ? String(exact) : exact;
    if (!ROUTE_HEADER.test(name) || typeof value !== "string" || !ROUTE_TEXT.test(value)) {
      findings.push(
        warning(
          [...at, "exact"],
          `this header match is not imported: meshquake routes on a header name of letters, digits, - and _ and a value of letters, digits and ._~:/@+=,;*- (no spaces or quotes)`,
        ),
      );
      return null;
    }
    return { header: name, value };
  }
  const at: DocPath = [...path, "uri"];
  const uri = asMap(match.uri);
  const kinds = Object.keys(uri);
  if (kinds.length !== 1 || uri.prefix === undefined) {
    const kind = kinds.find((k) => k !== "prefix") ?? "";
    const why = kind === "exact" ? "a meshquake path route matches a prefix (/api matches /api/x)" : "a meshquake path route matches a prefix";
    findings.push(warning(kinds.length === 0 ? at : [...at, kind], `uri ${kind || "match"} is not imported: ${why}`, { at: "key" }));
    return null;
  }
  if (typeof uri.prefix !== "string" || !ROUTE_PATH.test(uri.prefix)) {
    findings.push(warning([...at, "prefix"], "this path match is not imported: meshquake routes on a path that starts with / and holds letters, digits and ._~:/@+=,;%*-"));
    return null;
  }
  return { path: uri.prefix };
}

function importRoute(service: string, route: Record<string, unknown>, path: DocPath, ctx: ResourceContext): void {
  const { findings } = ctx;
  const policy = policyFor(service, ctx);
  origin(ctx, service, path);
  for (const key of Object.keys(route)) {
    const why = VS_ROUTE_UNSUPPORTED[key];
    if (why) findings.push(warning([...path, key], `${key} is not imported: ${why}`, { at: "key" }));
    else if (!["route", "timeout", "retries", "fault", "name", "match"].includes(key)) {
      findings.push(warning([...path, key], `${key} is not supported by meshquake; ignored`, { at: "key" }));
    }
  }

  if (route.timeout !== undefined) {
    const ms = istioDurationMs(route.timeout, [...path, "timeout"], findings);
    // Istio: 0s disables the timeout; meshquake always has one, so it gets the plain proxy's 30 s.
    if (ms === 0) {
      findings.push(warning([...path, "timeout"], "timeout 0s disables Istio's timeout; meshquake always has one, and keeps its default of 30s"));
    } else if (ms !== null) {
      policy.timeout = formatDuration(ms);
      origin(ctx, `${service}.timeout`, [...path, "timeout"]);
    }
  }

  const retriesPath = [...path, "retries"];
  if (route.retries === undefined) {
    const protocol = ctx.protocolOf(service);
    const retryOn = istioDefaultRetryOn(protocol);
    policy.retries = { attempts: ISTIO_DEFAULT_ATTEMPTS, retryOn };
    origin(ctx, `${service}.retries`, path);
    findings.push(
      warning(
        path,
        `this route sets no retries, so Istio applies its default: 2 retries on ${ISTIO_DEFAULT_ON}. Imported as retries ` +
          `{ attempts: ${ISTIO_DEFAULT_ATTEMPTS}, retryOn: [${retryOn.join(", ")}] } (${defaultRetryOnNote(service, protocol)})`,
      ),
    );
  } else {
    importRetries(service, asMap(route.retries), retriesPath, policy, ctx);
  }

  if (route.fault !== undefined) importFault(service, asMap(route.fault), [...path, "fault"], policy, ctx);
}

function importRetries(service: string, retries: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  for (const key of Object.keys(retries)) {
    if (key === "retryRemoteLocalities") findings.push(warning([...path, key], "retryRemoteLocalities is not modelled: the run has one locality", { at: "key" }));
    else if (!["attempts", "perTryTimeout", "retryOn"].includes(key)) {
      findings.push(warning([...path, key], `retries.${key} is not supported by meshquake; ignored`, { at: "key" }));
    }
  }
  const attempts = retries.attempts ?? 2;
  if (typeof attempts !== "number" || !Number.isInteger(attempts) || attempts < 0) {
    findings.push(error([...path, "attempts"], `expected a whole number of retries (0 or more), found ${describeValue(attempts)}`));
    return;
  }
  if (attempts === 0) {
    origin(ctx, `${service}.retries`, [...path, "attempts"]);
    return;
  }
  if (attempts + 1 > 20) {
    findings.push(error([...path, "attempts"], `${attempts} retries make ${attempts + 1} tries; meshquake allows at most 20 (19 retries)`));
    return;
  }
  // Istio's attempts counts retries; meshquake's counts tries, the first one included.
  const out: NonNullable<PolicySpec["retries"]> = { attempts: attempts + 1 };
  origin(ctx, `${service}.retries`, path);
  origin(ctx, `${service}.retries.attempts`, [...path, "attempts"]);
  if (retries.perTryTimeout !== undefined) {
    const ms = istioDurationMs(retries.perTryTimeout, [...path, "perTryTimeout"], findings);
    if (ms !== null && ms > 0) {
      out.perTryTimeout = formatDuration(ms);
      origin(ctx, `${service}.retries.perTryTimeout`, [...path, "perTryTimeout"]);
    }
  }
  if (retries.retryOn !== undefined) {
    const conditions = retryOnOf(retries.retryOn, [...path, "retryOn"], { service, protocol: ctx.protocolOf(service) }, findings);
    if (conditions.length > 0) {
      out.retryOn = conditions as NonNullable<PolicySpec["retries"]>["retryOn"];
      origin(ctx, `${service}.retries.retryOn`, [...path, "retryOn"]);
    } else {
      findings.push(warning([...path, "retryOn"], "no condition here can be retried by meshquake, so these retries never happen"));
      return;
    }
  } else {
    // Istio's retryOn default when attempts is set without it.
    const protocol = ctx.protocolOf(service);
    out.retryOn = istioDefaultRetryOn(protocol);
    findings.push(
      warning(path, `no retryOn: Istio then retries on ${ISTIO_DEFAULT_ON}; imported as [${out.retryOn.join(", ")}] (${defaultRetryOnNote(service, protocol)})`),
    );
  }
  policy.retries = { ...policy.retries, ...out };
}

function retryOnOf(raw: unknown, path: DocPath, destination: { service: string; protocol: Protocol }, findings: Finding[]): string[] {
  if (typeof raw !== "string") {
    findings.push(error(path, `expected a comma-separated list such as "5xx,connect-failure", found ${describeValue(raw)}`));
    return [];
  }
  const out = new Set<string>();
  for (const token of raw.split(",").map((t) => t.trim()).filter(Boolean)) {
    if (/^[1-5]\d\d$/.test(token)) {
      out.add(token);
      continue;
    }
    if (isGrpcRetryOn(token)) {
      if (destination.protocol === "grpc") out.add(token);
      else findings.push(warning(path, grpcOnOther(token, destination)));
      continue;
    }
    const mapping = RETRY_ON[token];
    if (mapping === undefined) findings.push(warning(path, `retryOn ${JSON.stringify(token)} is not an Envoy retry condition meshquake knows; ignored`));
    else if ("unsupported" in mapping) findings.push(warning(path, `retryOn ${JSON.stringify(token)} is not imported: ${mapping.unsupported}`));
    else {
      for (const t of mapping.to) out.add(t);
      if (mapping.note) findings.push(warning(path, mapping.note));
    }
  }
  return [...out];
}

function grpcOnOther(token: string, { service, protocol }: { service: string; protocol: Protocol }): string {
  return (
    `retryOn ${JSON.stringify(token)} is not imported: a gRPC condition, and "${service}" speaks ${protocol}; ` +
    `state services.${service}.protocol: grpc, or import its Service with a port named grpc-…`
  );
}

/**
 * Istio injects a VirtualService fault in the caller's sidecar, before its router: Istio never
 * retries an injected abort, and its route timeout does not cut an injected delay (both are a
 * documented gotcha). meshquake injects faults at the destination's inbound side, where callers'
 * retries and timeouts act on them. Where that changes the outcome, the import says so.
 */
function importFault(service: string, fault: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  const base = `istio-${slug(ctx.name)}`;
  for (const key of Object.keys(fault)) {
    if (key !== "delay" && key !== "abort") findings.push(warning([...path, key], `fault.${key} is not supported by meshquake; ignored`, { at: "key" }));
  }
  const delay = fault.delay === undefined ? null : asMap(fault.delay);
  if (delay) {
    const at = [...path, "delay"];
    for (const key of Object.keys(delay)) {
      if (key === "exponentialDelay") findings.push(warning([...at, key], "exponentialDelay is not supported (Istio does not implement it either); use fixedDelay", { at: "key" }));
      else if (!["fixedDelay", "percentage", "percent"].includes(key)) findings.push(warning([...at, key], `fault.delay.${key} is not supported; ignored`, { at: "key" }));
    }
    const ms = delay.fixedDelay === undefined ? null : istioDurationMs(delay.fixedDelay, [...at, "fixedDelay"], findings);
    if (delay.fixedDelay === undefined) findings.push(error(at, "a delay needs fixedDelay"));
    const percent = percentOf(delay, at, findings);
    if (ms !== null && percent !== null) {
      ctx.out.faults.push({ kind: "delay", name: `${base}-delay`, target: service, delay: formatDuration(ms), percent });
      ctx.out.faultOrigins.push({ source: ctx.source, path: at });
      const perTry = policy.retries?.perTryTimeout;
      const cut = [policy.timeout && `timeout ${policy.timeout}`, perTry && `perTryTimeout ${perTry}`].filter(Boolean).join(" and ");
      if (cut !== "") {
        findings.push(
          warning(
            at,
            `Istio delays in the caller's sidecar, before the route's ${cut} start, so they do not cut this delay; ` +
              `meshquake delays at the inbound side of ${service}, where the caller's ${cut} do`,
          ),
        );
      }
    }
  }
  const abort = fault.abort === undefined ? null : asMap(fault.abort);
  if (abort) importAbort(service, abort, [...path, "abort"], policy, ctx);
}

/**
 * Istio's abort answers one of httpStatus, grpcStatus (a status name; older Istio: its number) and
 * http2Error. A grpc destination's abort answers a gRPC status (a fault's grpcStatus; status is
 * refused there), so an httpStatus on it imports as the gRPC status a gRPC call reads from it.
 */
function importAbort(service: string, abort: Record<string, unknown>, at: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  const protocol = ctx.protocolOf(service);
  for (const key of Object.keys(abort)) {
    if (key === "http2Error") {
      findings.push(
        warning([...at, key], "http2Error is not supported: a meshquake abort answers an HTTP status, or a gRPC status on a grpc service, not an HTTP/2 stream error; use httpStatus or grpcStatus", { at: "key" }),
      );
    } else if (!["httpStatus", "grpcStatus", "percentage", "percent"].includes(key)) {
      findings.push(warning([...at, key], `fault.abort.${key} is not supported; ignored`, { at: "key" }));
    }
  }
  const percent = percentOf(abort, at, findings);
  let answer: { status: number } | { grpcStatus: number } | null = null;
  if (abort.grpcStatus !== undefined) {
    if (abort.httpStatus !== undefined) {
      findings.push(warning([...at, "httpStatus"], "Istio takes one of httpStatus and grpcStatus; grpcStatus is imported, not this", { at: "key" }));
    }
    answer = grpcAbortStatus(abort.grpcStatus, [...at, "grpcStatus"], { service, protocol }, findings);
  } else if (abort.httpStatus !== undefined || abort.http2Error === undefined) {
    const status = abort.httpStatus;
    if (typeof status !== "number" || !Number.isInteger(status) || status < 200 || status > 599) {
      findings.push(error([...at, "httpStatus"], `expected an HTTP status 200..599, found ${describeValue(status)}`));
    } else if (protocol === "grpc") {
      const code = grpcStatusOfHttp(status);
      answer = { grpcStatus: code };
      findings.push(
        warning(
          [...at, "httpStatus"],
          `"${service}" speaks grpc, and a gRPC call aborted with HTTP ${status} ends with status ${grpcStatusName(code)} (${code}), as gRPC reads ` +
            `an HTTP status (Envoy's answer to a gRPC call carries that status); imported as grpcStatus: ${code}`,
        ),
      );
    } else {
      answer = { status };
    }
  }
  if (answer === null || percent === null) return;
  ctx.out.faults.push({ kind: "abort", name: `istio-${slug(ctx.name)}-abort`, target: service, ...answer, percent });
  ctx.out.faultOrigins.push({ source: ctx.source, path: at });
  const retried = retriedAs(policy, answer);
  if (retried !== null) {
    findings.push(
      warning(
        at,
        `Istio aborts in the caller's sidecar, and does not retry its own injected abort: this route's retries never see it. ` +
          `meshquake aborts at the inbound side of ${service}, where the caller's retries (attempts ${policy.retries?.attempts}) do retry ${retried}, ` +
          `so fewer requests fail here than under Istio`,
      ),
    );
  }
}

/** A grpcStatus name (or number) → the fault's grpcStatus, for a grpc destination; null, with the reason, otherwise. */
function grpcAbortStatus(raw: unknown, path: DocPath, destination: { service: string; protocol: Protocol }, findings: Finding[]): { grpcStatus: number } | null {
  const { service, protocol } = destination;
  if (protocol !== "grpc") {
    findings.push(
      warning(
        path,
        `grpcStatus is not imported: "${service}" speaks ${protocol}, so its requests have no gRPC status; ` +
          `state services.${service}.protocol: grpc, or import its Service with a port named grpc-…, or use httpStatus`,
        { at: "key" },
      ),
    );
    return null;
  }
  const code = typeof raw === "string" ? grpcStatusCode(raw) : typeof raw === "number" && Number.isInteger(raw) && raw >= 0 && raw <= 16 ? raw : null;
  if (code === null) {
    findings.push(warning(path, `grpcStatus ${describeValue(raw)} is not a gRPC status; not imported. Names: ${quoteList(GRPC_STATUS_NAMES.slice(1))}.`));
    return null;
  }
  if (code === 0) {
    findings.push(warning(path, "grpcStatus OK is a success, not an abort; not imported"));
    return null;
  }
  return { grpcStatus: code };
}

/** How the route's retries name what they would retry of this answer ("503", "UNAVAILABLE"), or null. */
function retriedAs(policy: PolicySpec, answer: { status: number } | { grpcStatus: number }): string | null {
  const retries = policy.retries;
  if (!retries || (retries.attempts ?? 2) <= 1) return null;
  const on = (retries.retryOn ?? ["5xx", "connect-failure", "reset"]).map(String);
  if ("grpcStatus" in answer) {
    // A grpc abort is a trailers-only answer with a gRPC status: only the gRPC conditions retry it.
    const retried = on.some((c) => isGrpcRetryOn(c) && GRPC_RETRY_CODES[c] === answer.grpcStatus);
    return retried ? grpcStatusName(answer.grpcStatus) : null;
  }
  const { status } = answer;
  return on.includes(String(status)) || (status >= 500 && on.includes("5xx")) ? String(status) : null;
}

/** percentage: { value: 12.5 } (or the deprecated integer percent); unset means every request. */
function percentOf(block: Record<string, unknown>, path: DocPath, findings: Finding[]): number | null {
  const raw = block.percentage !== undefined ? asMap(block.percentage).value : block.percent;
  if (raw === undefined) return 100;
  if (typeof raw !== "number" || raw < 0 || raw > 100) {
    findings.push(error([...path, block.percentage !== undefined ? "percentage" : "percent"], `expected a percentage 0..100, found ${describeValue(raw)}`));
    return null;
  }
  return raw;
}

// --- DestinationRule -----------------------------------------------------------------------

function importDestinationRule(spec: Record<string, unknown>, ctx: ResourceContext, seen: Map<string, Origin>): void {
  const { findings } = ctx;
  for (const key of Object.keys(spec)) {
    if (key === "exportTo") findings.push(warning(["spec", key], "exportTo is not modelled: the run has one namespace", { at: "key" }));
    else if (key === "workloadSelector") findings.push(warning(["spec", key], "workloadSelector is not modelled: the rule applies to every caller", { at: "key" }));
    else if (!["host", "trafficPolicy", "subsets"].includes(key)) findings.push(warning(["spec", key], `${key} is not supported by meshquake; ignored`, { at: "key" }));
  }
  const service = serviceOfHost(spec.host, ["spec", "host"], ctx);
  if (service === null) return;
  const previous = seen.get(service);
  if (previous) {
    findings.push(warning(["spec", "host"], `"${service}" already takes its traffic policy from ${previous.source.file}:${lineOf(previous)}; not imported again`));
    return;
  }
  seen.set(service, { source: ctx.source, path: ["spec"] });
  ctx.traffic.subsets.set(service, subsetsOf(asList(spec.subsets), ["spec", "subsets"], ctx));
  const tp = asMap(spec.trafficPolicy);
  const path: DocPath = ["spec", "trafficPolicy"];
  const policy = policyFor(service, ctx);
  if (!ctx.out.policyOrigins.has(service)) origin(ctx, service, ["spec"]);
  for (const key of Object.keys(tp)) {
    const why = DR_UNSUPPORTED[key];
    if (why) findings.push(warning([...path, key], `${key} is not imported: ${why}`, { at: "key" }));
    else if (!["connectionPool", "outlierDetection", "loadBalancer", "retryBudget"].includes(key)) {
      findings.push(warning([...path, key], `${key} is not supported by meshquake; ignored`, { at: "key" }));
    }
  }
  if (tp.connectionPool !== undefined) importConnectionPool(service, asMap(tp.connectionPool), [...path, "connectionPool"], policy, ctx);
  if (tp.outlierDetection !== undefined) importOutlierDetection(service, asMap(tp.outlierDetection), [...path, "outlierDetection"], policy, ctx);
  if (tp.loadBalancer !== undefined) importLoadBalancer(service, asMap(tp.loadBalancer), [...path, "loadBalancer"], policy, ctx);
  if (tp.retryBudget !== undefined) importRetryBudget(service, asMap(tp.retryBudget), [...path, "retryBudget"], policy, ctx);
}

/** Subset names; their labels are not read: a subset is the version of the same name. */
function subsetsOf(subsets: unknown[], path: DocPath, ctx: ResourceContext): string[] {
  const names: string[] = [];
  subsets.forEach((raw, i) => {
    const subset = asMap(raw);
    for (const key of Object.keys(subset)) {
      if (key === "trafficPolicy") {
        ctx.findings.push(warning([...path, i, key], "a subset's trafficPolicy is not imported: meshquake applies one policy per service, to every version", { at: "key" }));
      } else if (key !== "name" && key !== "labels") {
        ctx.findings.push(warning([...path, i, key], `subsets[].${key} is not supported by meshquake; ignored`, { at: "key" }));
      }
    }
    const name = subsetName(subset.name, [...path, i, "name"], ctx);
    if (name !== null) names.push(name);
  });
  return names;
}

function importConnectionPool(service: string, pool: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  const tcp = asMap(pool.tcp);
  const http = asMap(pool.http);
  const breaker: NonNullable<PolicySpec["circuitBreaker"]> = {};
  // meshquake's maxConnections bounds requests in flight. Over HTTP/1.1 each holds a connection, so
  // Envoy's max_connections (tcp.maxConnections) is that bound; over HTTP/2 a connection carries
  // many requests and max_requests (http2MaxRequests) is.
  const protocol = ctx.protocolOf(service);
  const h2 = speaksH2(protocol);
  for (const key of Object.keys(pool)) {
    if (key !== "tcp" && key !== "http") findings.push(warning([...path, key], `connectionPool.${key} is not supported; ignored`, { at: "key" }));
  }
  const TCP_REASONS: Record<string, string> = {
    connectTimeout: "meshquake's connect timeout is bounded by the per-try timeout, not set on its own",
    tcpKeepalive: "TCP keepalive is not modelled",
    maxConnectionDuration: "connection lifetimes are not modelled",
    idleTimeout: "idle timeouts are not modelled",
  };
  for (const key of Object.keys(tcp)) {
    if (key === "maxConnections" && h2) {
      findings.push(
        warning(
          [...path, "tcp", key],
          `tcp.maxConnections is not imported: "${service}" speaks ${protocol}, and Envoy multiplexes its requests over HTTP/2 connections, so this ` +
            "bounds connections, not requests in flight; http.http2MaxRequests bounds those (circuitBreaker.maxConnections)",
          { at: "key" },
        ),
      );
    } else if (key === "maxConnections") {
      const n = wholeNumber(tcp.maxConnections, [...path, "tcp", key], 1, findings);
      if (n !== null) {
        breaker.maxConnections = n;
        origin(ctx, `${service}.circuitBreaker.maxConnections`, [...path, "tcp", key]);
      }
    } else {
      findings.push(warning([...path, "tcp", key], `tcp.${key} is not imported: ${TCP_REASONS[key] ?? "not supported by meshquake"}`, { at: "key" }));
    }
  }
  const HTTP_REASONS: Record<string, string> = {
    http2MaxRequests:
      `"${service}" speaks ${protocol}, one request to a connection, and meshquake takes the bound on its requests in flight from ` +
      "tcp.maxConnections (circuitBreaker.maxConnections)",
    maxRequestsPerConnection: "connection reuse limits are not modelled",
    maxRetries: "Envoy's cap on concurrent retries is not modelled; a retryBudget is",
    idleTimeout: "idle timeouts are not modelled",
    h2UpgradePolicy: "meshquake speaks HTTP/2 between sidecars exactly for http2 and grpc services, as the service's protocol says",
    useClientProtocol: "meshquake's sidecars speak the service's protocol (HTTP/2 for http2 and grpc services, HTTP/1.1 for http), not the client's",
    maxConcurrentStreams: "per-connection HTTP/2 stream limits are not modelled",
  };
  for (const key of Object.keys(http)) {
    if (key === "http1MaxPendingRequests") {
      const n = wholeNumber(http[key], [...path, "http", key], 0, findings);
      if (n !== null) {
        breaker.maxPending = n;
        origin(ctx, `${service}.circuitBreaker.maxPending`, [...path, "http", key]);
      }
    } else if (key === "http2MaxRequests" && h2) {
      const n = wholeNumber(http[key], [...path, "http", key], 1, findings);
      if (n !== null) {
        breaker.maxConnections = n;
        origin(ctx, `${service}.circuitBreaker.maxConnections`, [...path, "http", key]);
        findings.push(
          warning(
            [...path, "http", key],
            `"${service}" speaks ${protocol}, many requests to a connection: http2MaxRequests bounds its requests in flight, imported as ` +
              "circuitBreaker.maxConnections. Envoy refuses a request over it at once; meshquake queues it, up to circuitBreaker.maxPending",
          ),
        );
      }
    } else {
      findings.push(warning([...path, "http", key], `http.${key} is not imported: ${HTTP_REASONS[key] ?? "not supported by meshquake"}`, { at: "key" }));
    }
  }
  if (Object.keys(breaker).length > 0) {
    policy.circuitBreaker = breaker;
    origin(ctx, `${service}.circuitBreaker`, path);
  }
}

function importOutlierDetection(service: string, od: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  const out: NonNullable<PolicySpec["outlierDetection"]> = {};
  const REASONS: Record<string, string> = {
    minHealthPercent: "panic mode (below which ejection stops) is not modelled; maxEjectionPercent bounds ejections",
    splitExternalLocalOriginErrors: "local-origin failures are counted with the replica's own 5xx",
    consecutiveLocalOriginFailures: "local-origin failures are counted with the replica's own 5xx",
  };
  for (const key of Object.keys(od)) {
    if (!["consecutive5xxErrors", "consecutiveGatewayErrors", "consecutiveErrors", "interval", "baseEjectionTime", "maxEjectionPercent"].includes(key)) {
      findings.push(warning([...path, key], `outlierDetection.${key} is not imported: ${REASONS[key] ?? "not supported by meshquake"}`, { at: "key" }));
    }
  }
  const five = od.consecutive5xxErrors;
  const gatewayKey = od.consecutiveGatewayErrors !== undefined ? "consecutiveGatewayErrors" : od.consecutiveErrors !== undefined ? "consecutiveErrors" : null;
  if (five !== undefined) {
    const n = wholeNumber(five, [...path, "consecutive5xxErrors"], 0, findings);
    if (n === 0) {
      findings.push(warning([...path, "consecutive5xxErrors"], "0 disables ejection on consecutive 5xx; no outlier detection is imported"));
      return;
    }
    if (n !== null) {
      out.consecutive5xx = n;
      origin(ctx, `${service}.outlierDetection.consecutive5xx`, [...path, "consecutive5xxErrors"]);
    }
    if (gatewayKey !== null) {
      findings.push(warning([...path, gatewayKey], `${gatewayKey} is not imported: meshquake counts consecutive 5xx only, from consecutive5xxErrors`, { at: "key" }));
    }
  } else if (gatewayKey !== null) {
    const n = wholeNumber(od[gatewayKey], [...path, gatewayKey], 1, findings);
    if (n !== null) {
      out.consecutive5xx = n;
      origin(ctx, `${service}.outlierDetection.consecutive5xx`, [...path, gatewayKey]);
      findings.push(
        warning(
          [...path, gatewayKey],
          `${gatewayKey} counts only 502, 503 and 504 (and connection failures) in Envoy; meshquake counts every 5xx, so a replica answering 500 is ejected here and not under Istio`,
        ),
      );
    }
  }
  for (const [key, to] of [
    ["interval", "interval"],
    ["baseEjectionTime", "baseEjectionTime"],
  ] as const) {
    if (od[key] === undefined) continue;
    const ms = istioDurationMs(od[key], [...path, key], findings);
    if (ms !== null && ms > 0) {
      out[to] = formatDuration(ms);
      origin(ctx, `${service}.outlierDetection.${to}`, [...path, key]);
    }
  }
  if (od.maxEjectionPercent !== undefined) {
    const n = od.maxEjectionPercent;
    if (typeof n !== "number" || n < 0 || n > 100) findings.push(error([...path, "maxEjectionPercent"], `expected a percentage 0..100, found ${describeValue(n)}`));
    else {
      out.maxEjectionPercent = n;
      origin(ctx, `${service}.outlierDetection.maxEjectionPercent`, [...path, "maxEjectionPercent"]);
    }
  }
  // Istio's defaults are Envoy's, which are meshquake's: consecutive5xx 5, interval 10s, baseEjectionTime 30s, maxEjectionPercent 10.
  policy.outlierDetection = out;
  origin(ctx, `${service}.outlierDetection`, path);
}

function importLoadBalancer(service: string, lb: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  const REASONS: Record<string, string> = {
    consistentHash: "consistent hashing (session affinity) is not modelled; meshquake balances round-robin, least-request or random",
    localityLbSetting: "the run has one locality",
    warmupDurationSecs: "slow start is not modelled",
    warmup: "slow start is not modelled",
  };
  for (const key of Object.keys(lb)) {
    if (key !== "simple") findings.push(warning([...path, key], `loadBalancer.${key} is not imported: ${REASONS[key] ?? "not supported by meshquake"}`, { at: "key" }));
  }
  if (lb.simple === undefined) return;
  const simple = String(lb.simple);
  const mapped = LOAD_BALANCERS[simple];
  if (mapped === undefined) {
    const why = simple === "PASSTHROUGH" ? "PASSTHROUGH sends to the original destination address; meshquake always balances over the service's replicas" : "unknown";
    findings.push(warning([...path, "simple"], `${simple} is not imported: ${why}. Imported: ${quoteList(Object.keys(LOAD_BALANCERS))}.`));
    return;
  }
  if (mapped === null) return;
  if (simple === "LEAST_CONN") findings.push(warning([...path, "simple"], "LEAST_CONN is deprecated in Istio; imported as LEAST_REQUEST"));
  policy.loadBalancer = mapped;
  origin(ctx, `${service}.loadBalancer`, [...path, "simple"]);
}

/**
 * Envoy's retry budget caps concurrent retries at `percent` of active requests, never below
 * `minRetryConcurrency`; meshquake's (Linkerd's) caps retries at `ratio` of the requests in a
 * window, never below `minPerSecond`. The import maps percent → ratio and minRetryConcurrency →
 * minPerSecond, and says that the units differ.
 */
function importRetryBudget(service: string, budget: Record<string, unknown>, path: DocPath, policy: PolicySpec, ctx: ResourceContext): void {
  const { findings } = ctx;
  for (const key of Object.keys(budget)) {
    if (!["percent", "minRetryConcurrency", "budgetInterval"].includes(key)) findings.push(warning([...path, key], `retryBudget.${key} is not supported; ignored`, { at: "key" }));
  }
  const rawPercent = typeof budget.percent === "object" && budget.percent !== null ? asMap(budget.percent).value : budget.percent;
  const percent = rawPercent ?? 20;
  if (typeof percent !== "number" || percent < 0 || percent > 100) {
    findings.push(error([...path, "percent"], `expected a percentage 0..100, found ${describeValue(rawPercent)}`));
    return;
  }
  const min = budget.minRetryConcurrency === undefined ? 3 : wholeNumber(budget.minRetryConcurrency, [...path, "minRetryConcurrency"], 0, findings);
  if (min === null) return;
  const out: NonNullable<NonNullable<PolicySpec["retries"]>["budget"]> = { ratio: percent / 100, minPerSecond: min };
  if (budget.budgetInterval !== undefined) {
    const ms = istioDurationMs(budget.budgetInterval, [...path, "budgetInterval"], findings);
    if (ms !== null && ms > 0) out.window = formatDuration(ms);
  }
  findings.push(
    warning(
      path,
      `Envoy's budget limits concurrent retries to ${percent}% of active requests (at least ${min}); meshquake's limits retries to ` +
        `${percent}% of the requests in a ${out.window ?? "10s"} window (at least ${min} a second). Same share, different unit`,
    ),
  );
  if (!policy.retries) {
    const retryOn = istioDefaultRetryOn(ctx.protocolOf(service));
    policy.retries = { attempts: ISTIO_DEFAULT_ATTEMPTS, retryOn };
    origin(ctx, `${service}.retries`, path);
    findings.push(
      warning(path, `a budget limits retries, and no VirtualService sets them: Istio's default retries apply (attempts ${ISTIO_DEFAULT_ATTEMPTS}, retryOn [${retryOn.join(", ")}])`),
    );
  }
  policy.retries = { ...policy.retries, budget: out };
  origin(ctx, `${service}.retries.budget`, path);
}

// --- values --------------------------------------------------------------------------------

function wholeNumber(value: unknown, path: DocPath, min: number, findings: Finding[]): number | null {
  if (typeof value === "number" && Number.isInteger(value) && value >= min) return value;
  findings.push(error(path, `expected a whole number of at least ${min}, found ${describeValue(value)}`));
  return null;
}

const GO_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 0.000001 };

/** Istio durations are Go's ("1.5s", "100ms", "1m30s"); → whole milliseconds (at least 1 unless 0). */
export function istioDurationMs(value: unknown, path: DocPath, findings: Finding[]): number | null {
  const text = typeof value === "number" ? `${value}` : value;
  if (typeof text !== "string" || !/^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$/.test(text)) {
    findings.push(error(path, `expected a duration such as "1s", "250ms" or "1m30s", found ${describeValue(value)}`));
    return null;
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(amount) * GO_UNITS[unit!]!;
  if (ms > 0 && ms < 1) {
    findings.push(warning(path, `${text} is shorter than meshquake's resolution of 1ms; imported as 1ms`));
    return 1;
  }
  return Math.round(ms);
}

function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "vs";
}
