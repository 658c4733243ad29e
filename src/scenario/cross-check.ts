// Checks that need more than one value at a time: names that refer to services and faults,
// replica indexes, the call graph, and the fault timeline against the load.
import { isGrpcRetryOn } from "./protocols.js";
import { DEFAULTS } from "./defaults.js";
import { formatDuration, parseDuration } from "./duration.js";
import { error, formatPath, warning, type Finding } from "./finding.js";
import { LIMITS } from "./limits.js";
import type { DocPath, LocateOptions } from "./locate.js";
import type { ScenarioParts, ServicePart } from "./scenario-parts.js";
import { parseSloExpression, SloExpressionError } from "./slo-expression.js";
import { ENDPOINT_PATTERN, WINDOW_PATTERN, type CheckSpec, type FaultSpec } from "./spec.js";
import { describeValue, quoteList, withSuggestion } from "./wording.js";

export function crossCheck(parts: ScenarioParts): Finding[] {
  // Past the limit on services the schema already refuses the scenario; relating that many
  // names to each other would only make validation slow.
  const tooMany = parts.services !== null && parts.services.size > LIMITS.services;
  const topology = parts.services === null || tooMany ? null : new Topology(parts.services);
  return [
    ...(topology ? checkSize(topology) : []),
    ...(topology ? checkCalls(topology) : []),
    ...(topology ? checkUserImages(topology) : []),
    ...(topology ? checkStartOrder(topology) : []),
    ...(topology ? checkPolicies(parts, topology) : []),
    ...(topology ? checkVersions(parts, topology) : []),
    ...(topology ? checkProtocols(parts, topology) : []),
    ...(topology && parts.loadTarget !== null ? topology.reference(parts.loadTarget, ["load", "target"]) : []),
    // Past their limits (which the schema reports) faults and checks are not related to each other either.
    ...(parts.faults.length > LIMITS.faults ? [] : checkFaults(parts, topology)),
    ...(parts.checks.length > LIMITS.checks || parts.faults.length > LIMITS.faults ? [] : checkChecks(parts, topology)),
  ];
}

class Topology {
  readonly names: string[];
  /** Valid calls (known, not to itself) and their callers, computed once: a scenario may name many services. */
  private readonly validCalls = new Map<string, string[]>();
  private readonly callersOf = new Map<string, string[]>();
  private readonly userImages: number;

  constructor(private readonly services: Map<string, ServicePart>) {
    this.names = [...services.keys()];
    for (const name of this.names) {
      const calls = [...new Set(this.writtenCalls(name).filter((callee) => callee !== name && services.has(callee)))];
      this.validCalls.set(name, calls);
      for (const callee of calls) this.callersOf.set(callee, [...(this.callersOf.get(callee) ?? []), name]);
    }
    this.userImages = this.names.filter((name) => this.isUserImage(name)).length;
  }

  has(name: string): boolean {
    return this.services.has(name);
  }

  /** Calls as written, valid or not. */
  writtenCalls(name: string): string[] {
    return this.services.get(name)?.calls ?? [];
  }

  /** Valid calls of a service: known, and not to itself. */
  calls(name: string): string[] {
    return this.validCalls.get(name) ?? [];
  }

  callers(name: string): string[] {
    return this.callersOf.get(name) ?? [];
  }

  /** Runs a user's image: its app decides whom it calls, and its sidecar routes to every service. */
  isUserImage(name: string): boolean {
    return this.services.get(name)?.userImage ?? false;
  }

  part(name: string): ServicePart | undefined {
    return this.services.get(name);
  }

  /** Someone may call it: a fixture that lists it, or any other service running a user image. */
  mayBeCalled(name: string): boolean {
    return this.callers(name).length > 0 || this.userImages - (this.isUserImage(name) ? 1 : 0) > 0;
  }

  /** undefined when the service's replica count is invalid: nothing to compare against. */
  replicas(name: string): number | undefined {
    return this.services.get(name)?.replicas ?? undefined;
  }

  reference(name: string, path: DocPath): Finding[] {
    if (this.has(name)) return [];
    return [error(path, withSuggestion(`unknown service ${describeValue(name)}`, name, this.names, `Known services: ${quoteList(this.names)}.`))];
  }

  replicaIndex(service: string, index: number, path: DocPath): Finding[] {
    const count = this.replicas(service);
    if (count === undefined || index < count) return [];
    const indexes = count === 1 ? "index 0" : `indexes 0..${count - 1}`;
    return [error(path, `replica ${index} does not exist: "${service}" has ${count} ${plural(count, "replica")} (${indexes})`)];
  }

  /**
   * A version `service` must have (a split, a route, a shift, a fault's `version:`); `none` is
   * what is said when the service has no versions at all.
   */
  version(service: string, version: string, path: DocPath, none: string, options: LocateOptions = {}): Finding[] {
    const versions = this.services.get(service)?.versions ?? [];
    if (versions.includes(version)) return [];
    const message =
      versions.length === 0
        ? none
        : withSuggestion(`unknown version ${describeValue(version)} of "${service}"`, version, versions, `Its versions: ${quoteList(versions)}.`);
    return [error(path, message, options)];
  }

  /** "payments" or "payments[1]", as in partitions and property targets. */
  endpoint(text: string, path: DocPath): Finding[] {
    const match = ENDPOINT_PATTERN.exec(text);
    if (!match?.[1]) return [];
    const known = this.reference(match[1], path);
    if (known.length > 0 || match[2] === undefined) return known;
    return this.replicaIndex(match[1], Number(match[2]), path);
  }

  /** A fault or a check on the edge from → to only makes sense if `from` calls `to`. */
  edge(from: string, to: string, path: DocPath): Finding[] {
    const unknown = [...this.reference(from, [...path, "from"]), ...this.reference(to, [...path, "to"])];
    if (unknown.length > 0 || this.calls(from).includes(to)) return unknown;
    const calls = this.calls(from);
    const actual = calls.length === 0 ? `"${from}" calls no service` : `"${from}" calls ${quoteList(calls)}`;
    const hint = this.isUserImage(from) ? ` A user image's calls name the edges the report measures: add "${to}" to services.${from}.calls.` : "";
    return [error(path, `"${from}" does not call "${to}", so no request crosses the edge ${from} → ${to}. ${actual}.${hint}`)];
  }
}

// --- services ------------------------------------------------------------------------------

function checkCalls(topology: Topology): Finding[] {
  const findings: Finding[] = [];
  for (const name of topology.names) {
    const seen = new Set<string>();
    for (const [i, callee] of topology.writtenCalls(name).entries()) {
      const path = ["services", name, "calls", i];
      // A user image calling its own service is its own business; the fixture would recurse.
      if (callee === name && !topology.isUserImage(name)) findings.push(error(path, `"${name}" calls itself, so every request would recurse until it times out`));
      else if (seen.has(callee)) findings.push(error(path, `"${callee}" is listed twice; list each service once (its sidecar has one route per service)`));
      else if (callee !== name) findings.push(...topology.reference(callee, path));
      seen.add(callee);
    }
  }
  const fixtureCalls = (name: string) =>
    topology.isUserImage(name)
      ? []
      : topology.writtenCalls(name).flatMap((to, index) => (to !== name && topology.has(to) && !topology.isUserImage(to) ? [{ to, index }] : []));
  const cycles = findCycles(topology.names, fixtureCalls).map(({ from, index, cycle }) =>
    error(["services", from, "calls", index], `calls form a cycle: ${cycle.join(" → ")}; every request would recurse until it times out`),
  );
  return [...findings, ...cycles, ...checkCallDepth(topology)];
}

/** Pods in all: each replica of each service is three containers on this machine. */
function checkSize(topology: Topology): Finding[] {
  const pods = topology.names.reduce((sum, name) => sum + (topology.replicas(name) ?? 0), 0);
  if (pods <= LIMITS.pods) return [];
  return [error(["services"], `${pods} pods in all (the replicas of every service); a run has at most ${LIMITS.pods}, three containers each`, { at: "key" })];
}

/**
 * The longest call chain, hop by hop from a service nobody calls. Computed in topological order
 * (Kahn), without recursion; services on a cycle are left out (a cycle is reported on its own).
 */
function checkCallDepth(topology: Topology): Finding[] {
  const pending = new Map(topology.names.map((name) => [name, topology.callers(name).length]));
  const depth = new Map<string, number>();
  const via = new Map<string, string>();
  const ready = topology.names.filter((name) => pending.get(name) === 0);
  for (const name of ready) depth.set(name, 0);
  for (let i = 0; i < ready.length; i++) {
    const caller = ready[i]!;
    for (const callee of topology.calls(caller)) {
      if ((depth.get(caller) ?? 0) + 1 > (depth.get(callee) ?? -1)) {
        depth.set(callee, (depth.get(caller) ?? 0) + 1);
        via.set(callee, caller);
      }
      pending.set(callee, (pending.get(callee) ?? 1) - 1);
      if (pending.get(callee) === 0) ready.push(callee);
    }
  }
  const deepest = ready.find((name) => (depth.get(name) ?? 0) > LIMITS.callDepth);
  if (deepest === undefined) return [];
  const chain = [deepest];
  for (let from = via.get(deepest); from !== undefined; from = via.get(from)) chain.unshift(from);
  const caller = chain.at(-2)!;
  return [
    error(
      ["services", caller, "calls", topology.writtenCalls(caller).indexOf(deepest)],
      `the call chain ${chain.join(" → ")} is ${chain.length - 1} hops deep; meshquake meshes chains of at most ${LIMITS.callDepth} hops`,
    ),
  ];
}

/**
 * Every cycle once, reported at the edge that closes it, in the order names and edges are
 * written. Depth-first with an explicit stack, so a long chain cannot overflow it.
 */
function findCycles(
  names: readonly string[],
  edges: (name: string) => { to: string; index: number }[],
): { from: string; index: number; cycle: string[] }[] {
  const found: { from: string; index: number; cycle: string[] }[] = [];
  const done = new Set<string>();
  for (const root of names) {
    if (done.has(root)) continue;
    const path = [root];
    const frames = [{ name: root, edges: edges(root), next: 0 }];
    while (frames.length > 0) {
      const frame = frames.at(-1)!;
      const edge = frame.edges[frame.next++];
      if (edge === undefined) {
        frames.pop();
        path.pop();
        done.add(frame.name);
        continue;
      }
      const onPath = path.indexOf(edge.to);
      if (onPath !== -1) {
        found.push({ from: frame.name, index: edge.index, cycle: [...path.slice(onPath), edge.to] });
      } else if (!done.has(edge.to)) {
        path.push(edge.to);
        frames.push({ name: edge.to, edges: edges(edge.to), next: 0 });
      }
    }
  }
  return found;
}

/** Keys that only mean something for one kind of service: the fixture, or a user image. */
const FIXTURE_KEYS = ["latency", "errorRate", "failFirst"] as const;
const USER_IMAGE_KEYS = ["env", "command", "entrypoint", "user", "workingDir"] as const;

function checkUserImages(topology: Topology): Finding[] {
  const findings: Finding[] = [];
  for (const name of topology.names) {
    const keys = topology.part(name)?.keys ?? [];
    if (keys.includes("image") && keys.includes("build")) {
      findings.push(error(["services", name, "build"], `use either "image" (an image that exists locally) or "build", not both`, { at: "key" }));
    }
    if (topology.isUserImage(name)) {
      for (const key of FIXTURE_KEYS.filter((k) => keys.includes(k))) {
        findings.push(
          error(["services", name, key], `"${key}" configures the built-in fixture, and "${name}" runs a user image; remove it`, { at: "key" }),
        );
      }
    } else {
      const health = topology.part(name)?.health;
      if (health !== undefined && !(typeof health === "string" && health.startsWith("/"))) {
        findings.push(error(["services", name, "health"], `the built-in fixture is ready when GET <path> answers 2xx: its health is a path such as "/healthz"`));
      }
      for (const key of USER_IMAGE_KEYS.filter((k) => keys.includes(k))) {
        findings.push(
          error(
            ["services", name, key],
            `"${key}" configures a user image, and "${name}" runs the built-in fixture; add "image" or "build", or remove it`,
            { at: "key" },
          ),
        );
      }
    }
  }
  return findings;
}

/** dependsOn: known services, not itself, and no cycle (nothing could start first). */
function checkStartOrder(topology: Topology): Finding[] {
  const findings: Finding[] = [];
  const deps = (name: string) => (topology.part(name)?.dependsOn ?? []).filter((d) => d !== name && topology.has(d));
  for (const name of topology.names) {
    for (const [i, dep] of (topology.part(name)?.dependsOn ?? []).entries()) {
      const path = ["services", name, "dependsOn", i];
      if (dep === name) findings.push(error(path, `"${name}" depends on itself, so it could never start`));
      else findings.push(...topology.reference(dep, path));
    }
  }
  const edges = (name: string) => deps(name).map((to) => ({ to, index: (topology.part(name)?.dependsOn ?? []).indexOf(to) }));
  for (const { from, index, cycle } of findCycles(topology.names, edges)) {
    findings.push(error(["services", from, "dependsOn", index], `dependsOn forms a cycle: ${cycle.join(" → ")}; none of them could start first`));
  }
  return findings;
}

// --- policies ------------------------------------------------------------------------------

function checkPolicies(parts: ScenarioParts, topology: Topology): Finding[] {
  const findings: Finding[] = [];
  for (const [name, policy] of parts.policies) {
    const path = ["policies", name];
    if (!topology.has(name)) {
      findings.push(...topology.reference(name, path).map((f) => ({ ...f, at: "key" as const })));
      continue;
    }
    if (policy?.healthCheck !== undefined && policy.healthCheck.path === undefined) {
      const health = topology.part(name)?.health;
      const noHttpPath =
        health === undefined ? (topology.isUserImage(name) ? `it is a user image without "health"` : null) : typeof health === "string" && health.startsWith("/") ? null : `its health is ${typeof health === "string" ? `"${health}"` : "a command"}`;
      if (noHttpPath !== null) {
        findings.push(
          error(
            [...path, "healthCheck"],
            `"${name}" has no HTTP health path (${noHttpPath}), so the callers' sidecars cannot probe it over HTTP; give healthCheck.path`,
            { at: "key" },
          ),
        );
      }
    }
    if (!topology.mayBeCalled(name)) {
      const why = name === parts.loadTarget ? `: policies act in the callers' sidecars, and the load generator calls "${name}" directly` : "";
      findings.push(warning(path, `no service calls "${name}", so this policy never applies${why}`, { at: "key" }));
    }
    const perTry = policy?.retries?.perTryTimeout;
    if (perTry !== undefined) {
      const timeoutMs = parseDuration(policy?.timeout ?? DEFAULTS.policy.timeout);
      if (parseDuration(perTry) >= timeoutMs) {
        findings.push(
          warning(
            [...path, "retries", "perTryTimeout"],
            `perTryTimeout ${perTry} is not shorter than the timeout ${formatDuration(timeoutMs)}, so the request times out before any retry`,
          ),
        );
      }
    }
  }
  return findings;
}

// --- protocols ----------------------------------------------------------------------------

function checkProtocols(parts: ScenarioParts, topology: Topology): Finding[] {
  const findings: Finding[] = [];
  const protocol = (name: string) => topology.part(name)?.protocol ?? "http";
  for (const name of topology.names) {
    // The fixture's gRPC client calls gRPC only, and its HTTP client HTTP only (a sidecar turns
    // HTTP/1.1 into HTTP/2 and back, but not into gRPC); a user's app calls what it calls.
    if (topology.isUserImage(name)) continue;
    const grpc = protocol(name) === "grpc";
    for (const [i, callee] of topology.writtenCalls(name).entries()) {
      if (!topology.has(callee) || (protocol(callee) === "grpc") === grpc) continue;
      findings.push(
        error(
          ["services", name, "calls", i],
          grpc
            ? `"${name}" is a grpc fixture, which calls its downstreams over gRPC, and "${callee}" speaks ${protocol(callee)}; make "${callee}" grpc too`
            : `"${name}" is an ${protocol(name)} fixture, which calls its downstreams over HTTP, and "${callee}" speaks grpc; make "${name}" grpc too`,
        ),
      );
    }
  }
  for (const [name, policy] of parts.policies) {
    if (!topology.has(name)) continue;
    for (const [i, on] of (policy?.retries?.retryOn ?? []).entries()) {
      if (typeof on === "string" && isGrpcRetryOn(on) && protocol(name) !== "grpc") {
        findings.push(error(["policies", name, "retries", "retryOn", i], `retryOn ${on} is a gRPC condition, and "${name}" speaks ${protocol(name)}; give services.${name}.protocol: grpc or retry on HTTP conditions`));
      }
    }
  }
  const target = parts.loadTarget;
  if (target !== null && topology.has(target) && parts.loadProtocol !== null && (parts.loadProtocol === "grpc") !== (protocol(target) === "grpc")) {
    findings.push(
      parts.loadProtocol === "grpc"
        ? error(["load", "protocol"], `a gRPC load calls a grpc service, and the load's target "${target}" speaks ${protocol(target)}; give services.${target}.protocol: grpc or remove protocol: grpc`)
        : error(["load", "target"], `"${target}" speaks grpc, so the load calls it over gRPC: give load.protocol: grpc and load.method (e.g. meshquake.Fixture/Call for the fixture)`),
    );
  }
  for (const [i, fault] of validFaults(parts)?.entries() ?? []) {
    if (fault.kind !== "abort" || !topology.has(fault.target)) continue;
    const grpc = protocol(fault.target) === "grpc";
    if (fault.grpcStatus !== undefined && !grpc) {
      findings.push(error(["faults", i, "grpcStatus"], `"${fault.target}" speaks ${protocol(fault.target)}, so its requests have no gRPC status; use status`, { at: "key" }));
    }
    if (fault.status !== undefined && grpc) {
      findings.push(error(["faults", i, "status"], `"${fault.target}" speaks grpc: an abort answers a gRPC status, e.g. grpcStatus: 14 (UNAVAILABLE)`, { at: "key" }));
    }
  }
  return findings;
}

// --- versions, splits and routes ----------------------------------------------------------

function checkVersions(parts: ScenarioParts, topology: Topology): Finding[] {
  const findings: Finding[] = [];
  for (const name of topology.names) {
    const part = topology.part(name)!;
    if (!part.keys.includes("versions")) continue;
    if (part.keys.includes("replicas")) {
      findings.push(error(["services", name, "replicas"], `with versions, replicas are given per version (services.${name}.versions.<version>.replicas); remove this one`, { at: "key" }));
    }
    if (part.userImage) {
      findings.push(error(["services", name, "versions"], `versions run the built-in fixture, and "${name}" runs a user image; give each version its own service for now`, { at: "key" }));
    }
  }
  for (const [name, policy] of parts.policies) {
    if (!topology.has(name) || !policy) continue;
    const path = ["policies", name];
    const none = `"${name}" has no versions; give it services.${name}.versions to split or route between`;
    for (const version of Object.keys(policy.split ?? {})) findings.push(...topology.version(name, version, [...path, "split", version], none, { at: "key" }));
    for (const [i, route] of (policy.routes ?? []).entries()) {
      findings.push(...topology.version(name, route.to, [...path, "routes", i, "to"], none, { at: "value" }));
    }
    if (policy.split !== undefined && policy.loadBalancer === "peak-ewma") {
      findings.push(
        error([...path, "split"], `a split cannot be combined with loadBalancer peak-ewma: its latency picker does not weigh versions; use round-robin, least-request or random`, { at: "key" }),
      );
    }
  }
  return findings;
}

/** A shift changes the split its target's callers apply: the target needs versions, and callers. */
function checkShift(fault: Extract<FaultSpec, { kind: "shift" }>, path: DocPath, topology: Topology): Finding[] {
  if ((topology.part(fault.target)?.versions ?? []).length === 0) {
    return [error([...path, "target"], `"${fault.target}" has no versions to shift between (services.${fault.target}.versions)`)];
  }
  // Every name is checked against versions the target has (none is said above).
  const findings = Object.keys(fault.split).flatMap((v) => topology.version(fault.target, v, [...path, "split", v], "", { at: "key" }));
  if (!topology.mayBeCalled(fault.target)) {
    findings.push(error([...path, "target"], `no service calls "${fault.target}": a split is applied by the callers' sidecars, so a shift has nothing to change`));
  }
  return findings;
}

// --- faults --------------------------------------------------------------------------------

function checkFaults(parts: ScenarioParts, topology: Topology | null): Finding[] {
  const findings: Finding[] = [];
  const firstIndexOfName = new Map<string, number>();
  for (const [i, fault] of parts.faults.entries()) {
    if (fault === null) continue;
    const path = ["faults", i];
    const first = firstIndexOfName.get(fault.name);
    if (first !== undefined) {
      findings.push(error([...path, "name"], `duplicate fault name "${fault.name}"; ${formatPath(["faults", first])} already uses it`));
    } else {
      firstIndexOfName.set(fault.name, i);
    }
    if (topology) findings.push(...checkFaultTargets(fault, path, topology));
    if (fault.kind === "shift" && parts.policies.get(fault.target)?.loadBalancer === "peak-ewma") {
      findings.push(error([...path, "target"], `"${fault.target}" is balanced by peak-ewma, whose latency picker does not weigh versions: a shift would change nothing`));
    }
    if (parts.loadDurationMs !== null) findings.push(...checkFaultTiming(fault, path, parts.loadDurationMs));
  }
  return findings;
}

function checkFaultTargets(fault: FaultSpec, path: DocPath, topology: Topology): Finding[] {
  if (fault.kind === "partition") {
    const [a, b] = fault.between;
    const findings = fault.between.flatMap((endpoint, k) => topology.endpoint(endpoint, [...path, "between", k]));
    if (a === b) findings.push(error([...path, "between", 1], `a partition needs two different endpoints, found "${a}" twice`));
    return findings;
  }
  const unknown = topology.reference(fault.target, [...path, "target"]);
  if (unknown.length > 0) return unknown;
  if (fault.kind === "shift") return checkShift(fault, path, topology);

  const findings: Finding[] = [];
  const seen = new Set<number>();
  for (const [j, index] of (fault.replicas ?? []).entries()) {
    if (seen.has(index)) findings.push(error([...path, "replicas", j], `replica ${index} is listed twice`));
    seen.add(index);
    findings.push(...topology.replicaIndex(fault.target, index, [...path, "replicas", j]));
  }
  if (fault.version !== undefined) {
    if (fault.replicas !== undefined || fault.count !== undefined) {
      findings.push(error([...path, "version"], `use either "version" or "replicas"/"count", not both`, { at: "key" }));
    } else {
      findings.push(...topology.version(fault.target, fault.version, [...path, "version"], `"${fault.target}" has no versions (services.${fault.target}.versions)`));
    }
  }
  if (fault.count !== undefined) {
    const count = topology.replicas(fault.target);
    if (fault.replicas !== undefined) {
      findings.push(error([...path, "count"], `use either "replicas" or "count", not both`));
    } else if (count !== undefined && fault.count > count) {
      findings.push(error([...path, "count"], `"${fault.target}" has only ${count} ${plural(count, "replica")}, found count ${fault.count}`));
    }
  }
  if ("edge" in fault && fault.edge !== undefined) {
    const edgePath = [...path, "edge"];
    if (fault.edge.to !== fault.target) {
      findings.push(error([...edgePath, "to"], `an edge fault acts on the callee: "to" must be the target "${fault.target}", found "${fault.edge.to}"`));
    } else {
      findings.push(...topology.edge(fault.edge.from, fault.edge.to, edgePath));
    }
  }
  return findings;
}

function checkFaultTiming(fault: FaultSpec, path: DocPath, loadMs: number): Finding[] {
  const { startMs, endMs } = faultSpan(fault, loadMs);
  const loadEnd = `the load ends at ${formatDuration(loadMs)}`;
  if (startMs >= loadMs) {
    return [error([...path, "at"], `the fault starts at ${formatDuration(startMs)}, but ${loadEnd}; start it earlier or lengthen load.duration`)];
  }
  if (endMs > loadMs) {
    return [
      error(
        [...path, "duration"],
        `the fault runs from ${formatDuration(startMs)} to ${formatDuration(endMs)}, past the end of the load at ${formatDuration(loadMs)}; ` +
          `make it at most ${formatDuration(loadMs - startMs)} or lengthen load.duration`,
      ),
    ];
  }
  return [];
}

/** A fault without a duration lasts until the load ends. */
export function faultSpan(fault: FaultSpec, loadMs: number): { startMs: number; endMs: number } {
  const startMs = parseDuration(fault.at ?? DEFAULTS.fault.at);
  const endMs = fault.duration === undefined ? Math.max(loadMs, startMs) : startMs + parseDuration(fault.duration);
  return { startMs, endMs };
}

// --- checks --------------------------------------------------------------------------------

function checkChecks(parts: ScenarioParts, topology: Topology | null): Finding[] {
  const findings: Finding[] = [];
  for (const [i, check] of parts.checks.entries()) {
    if (check === null) continue;
    const path = ["checks", i];
    if ("slo" in check) {
      findings.push(...checkSloExpression(check.slo, [...path, "slo"]));
      const windowPath = [...path, "window"];
      const window = check.window ?? DEFAULTS.checkWindow;
      const [, kind, fault] = WINDOW_PATTERN.exec(window) ?? [];
      if (window === "baseline") findings.push(...checkBaseline(parts, windowPath));
      if (fault !== undefined) findings.push(...checkFaultReference(parts, fault, kind === "recovery", windowPath, `window "${window}"`));
      continue;
    }
    if (check.fault !== undefined) {
      findings.push(...checkFaultReference(parts, check.fault, check.property === "recovery", [...path, "fault"], "fault"));
    }
    for (const [j, slo] of (check.slos ?? []).entries()) findings.push(...checkSloExpression(slo, [...path, "slos", j]));
    if (topology && check.edge !== undefined) findings.push(...topology.edge(check.edge.from, check.edge.to, [...path, "edge"]));
    if (topology && check.target !== undefined) findings.push(...topology.endpoint(check.target, [...path, "target"]));
    if (check.property === "traffic_split" || check.property === "blast_radius") findings.push(...checkVersionProperty(check, path, topology));
  }
  return findings;
}

/** traffic_split and blast_radius judge a service's versions: a whole service that has them, shares as fractions. */
function checkVersionProperty(check: Extract<CheckSpec, { property: string }>, path: DocPath, topology: Topology | null): Finding[] {
  const findings: Finding[] = [];
  const share = (key: "tolerance" | "max", value: number | string | undefined, lowest: string) => {
    if (value === undefined) return;
    const fraction = typeof value === "number" ? value : Number(value.slice(0, -1)) / 100;
    const ok = key === "tolerance" ? fraction > 0 && fraction < 1 : fraction >= 0 && fraction <= 1;
    if (!ok) findings.push(error([...path, key], `${key} is a share of requests, ${lowest}, found ${describeValue(value)}`));
  };
  share("tolerance", check.tolerance, "above 0% and below 100%, e.g. 5%");
  share("max", check.max, "from 0% to 100%, e.g. 12%");
  const [, name, replica] = ENDPOINT_PATTERN.exec(check.target ?? "") ?? [];
  if (name === undefined) return findings;
  if (replica !== undefined) {
    findings.push(error([...path, "target"], `property check "${check.property}" judges a service's versions: name the service ("${name}"), not one replica`));
    return findings;
  }
  const part = topology?.part(name);
  if (!part) return findings;
  if (!part.keys.includes("versions")) {
    findings.push(error([...path, "target"], `"${name}" has no versions, so there is no ${check.property === "traffic_split" ? "split between versions to judge" : "version to blame"}; give it services.${name}.versions`));
  } else if (check.version !== undefined && part.versions.length > 0 && !part.versions.includes(check.version)) {
    findings.push(error([...path, "version"], withSuggestion(`"${name}" has no version ${describeValue(check.version)}`, check.version, part.versions, `Its versions: ${quoteList(part.versions)}.`)));
  }
  return findings;
}

function checkSloExpression(expression: string, path: DocPath): Finding[] {
  try {
    parseSloExpression(expression);
    return [];
  } catch (e) {
    if (!(e instanceof SloExpressionError)) throw e;
    return [error(path, e.message, { offset: e.offset })];
  }
}

/** The baseline is the time before the first fault starts (plan/windows.ts). */
function checkBaseline(parts: ScenarioParts, path: DocPath): Finding[] {
  const faults = validFaults(parts);
  if (faults === null || parts.loadDurationMs === null || faults.length === 0) return [];
  const loadMs = parts.loadDurationMs;
  const first = faults.reduce((a, b) => (faultSpan(b, loadMs).startMs < faultSpan(a, loadMs).startMs ? b : a));
  if (faultSpan(first, loadMs).startMs > 0) return [];
  return [error(path, `the baseline window is empty: fault "${first.name}" starts at 0s; start it later to leave a baseline`)];
}

/**
 * A check naming a fault: the fault exists and, for a recovery, there is time between the
 * fault's end and the next fault or the end of the load (plan/windows.ts).
 */
function checkFaultReference(parts: ScenarioParts, name: string, needsRecovery: boolean, path: DocPath, what: string): Finding[] {
  if (!parts.faultNames.includes(name)) {
    const known = parts.faultNames.length === 0 ? "This scenario has no faults." : `Faults: ${quoteList(parts.faultNames)}.`;
    return [error(path, withSuggestion(`unknown fault "${name}" in ${what}`, name, parts.faultNames, known))];
  }
  const fault = parts.faults.find((f) => f?.name === name);
  if (!needsRecovery || !fault || parts.loadDurationMs === null) return [];
  const loadMs = parts.loadDurationMs;
  const { endMs } = faultSpan(fault, loadMs);
  const noRecovery = "there is no recovery to measure";
  if (endMs >= loadMs) {
    const message =
      fault.duration === undefined
        ? `fault "${name}" has no duration, so it lasts until the load ends (${formatDuration(loadMs)}); give it a duration that ends before the load does`
        : `fault "${name}" ends at ${formatDuration(endMs)}, when the load ends; end the fault earlier or lengthen load.duration`;
    return [error(path, `${noRecovery}: ${message}`)];
  }
  const next = (validFaults(parts) ?? []).find((f) => f.name !== name && faultSpan(f, loadMs).startMs === endMs);
  if (next === undefined) return [];
  return [error(path, `${noRecovery}: fault "${next.name}" starts at ${formatDuration(endMs)}, just as "${name}" ends; leave time between them`)];
}

/** Every fault, or null when one is invalid and the timeline cannot be known. */
function validFaults(parts: ScenarioParts): FaultSpec[] | null {
  return parts.faults.every((f) => f !== null) ? (parts.faults as FaultSpec[]) : null;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}
