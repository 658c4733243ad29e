import { join } from "node:path";
import type { DataPlane, DataPlaneWarning, UpstreamRef } from "../dataplane/types.js";
import { DEFAULTS } from "../scenario/defaults.js";
import { parseMemorySize } from "../scenario/memory-size.js";
import type { ResolvedScenario, ResolvedService } from "../scenario/types.js";
import { versionOf } from "../scenario/version-of.js";
import { placementWarnings } from "../faults/placement.js";
import { applyAcknowledgements, type PlanWarning } from "../scenario/warnings.js";
import { runLabels } from "../runtime/labels.js";
import { lintPolicies } from "./policy-lint.js";
import { POD_PORTS, SIDECAR_ADMIN_SOCKET, SIDECAR_TLS_CA, SIDECAR_TLS_CERT, type AppPlan, type ExecutionPlan, type PodPlan } from "./types.js";
import { recorderPlan } from "./recorder-plan.js";
import { planTimeline, planWindows } from "./windows.js";

export interface PlanInput {
  scenario: ResolvedScenario;
  runId: string;
  /** The mesh image: every proxy container (interception and sidecar), and the fixture's apps. */
  image: string;
  dataPlane: DataPlane;
  /**
   * The local image each user-image service runs (src/runtime/user-images.ts builds them first).
   * A service missing here shows what it will run: its image as written, or its build context.
   */
  userImages?: Readonly<Record<string, string>>;
}

export const FIXTURE_COMMAND = ["node", "/opt/meshquake/service/server.js"];

/** Everything the run will create and do, decided without touching Docker. */
export function buildPlan({ scenario, runId, image, dataPlane, userImages = {} }: PlanInput): ExecutionPlan {
  const services = new Map(scenario.services.map((s) => [s.name, s]));
  /** Warning → the services whose sidecars it concerns: user images route every service, so one upstream's warning repeats. */
  const warnings = new Map<string, { warning: DataPlaneWarning; services: string[] }>();
  const pods: PodPlan[] = [];
  // Every pod gets a certificate when any destination is reached over mutual TLS: its callers need
  // one as clients, its replicas as servers, and a pod may be both.
  const mtls = mutualTlsApplies(scenario);
  for (const service of scenario.services) {
    // The fixture calls exactly its `calls`; a user's app may call anything, so its sidecar routes every service.
    const upstreams = (service.image?.upstreams ?? service.calls).map((name) => upstreamOf(services.get(name)!, scenario));
    for (let index = 0; index < service.replicas; index++) {
      const id = `${service.name}-${index}`;
      const rendering = dataPlane.renderSidecar({
        service,
        index,
        upstreams,
        ports: { ...POD_PORTS, app: service.port },
        adminSocket: SIDECAR_ADMIN_SOCKET,
        seed: scenario.seed,
        rateLimit: scenario.policies[service.name]?.rateLimit ?? null,
        tls: mtls ? { certificate: SIDECAR_TLS_CERT, caFile: SIDECAR_TLS_CA, inbound: scenario.policies[service.name]?.tls === "mutual" } : null,
      });
      if (index === 0) {
        for (const w of rendering.warnings) {
          const key = JSON.stringify([w.id, w.upstream, w.field, w.message]);
          const seen = warnings.get(key);
          if (seen) seen.services.push(service.name);
          else warnings.set(key, { warning: w, services: [service.name] });
        }
      }
      pods.push({
        service: service.name,
        index,
        id,
        containers: { proxy: `${runId}-${id}`, app: `${runId}-${id}-app` },
        // A version's replica also answers to <service>-<version>-<i>, its place within its version.
        aliases: [id, service.name, ...versionAlias(service, index, services)],
        ...versionField(service, index),
        app: appPlan(service, index, scenario, services, image, userImages),
        sidecar: {
          files: rendering.files,
          command: rendering.command,
          accessLogEnv: rendering.accessLogEnv,
          resolves: upstreams.flatMap((u) => u.replicas.map((r) => r.host)),
        },
        publishInbound: service.name === scenario.load.target && index === 0,
        ...(mtls ? { mtls: true as const } : {}),
      });
    }
  }
  return {
    runId,
    scenario,
    image,
    network: runId,
    labels: runLabels(runId, scenario.name),
    pods,
    timeline: planTimeline(scenario),
    windows: planWindows(scenario),
    ...planWarnings(scenario, [
      ...[...warnings.values()].map(({ warning: w, services }) => ({
        id: w.id,
        path: ["policies", w.upstream, ...w.field.split(".")],
        text: `${services.join(", ")}: calls to ${w.upstream}: ${w.message}`,
      })),
      ...lintPolicies(scenario),
      ...placementWarnings(scenario),
    ]),
    meshProbe: { path: meshProbePath(scenario) },
    recorders: recorderPlan(scenario),
  };
}

/** The plan's warnings: those the scenario acknowledges set apart, the rest said as the report has always said them. */
function planWarnings(scenario: ResolvedScenario, all: PlanWarning[]): Pick<ExecutionPlan, "warnings" | "warningDetails"> {
  const details = applyAcknowledgements(all, scenario.acknowledge ?? []);
  return { warnings: details.shown.map((w) => w.text), warningDetails: details };
}

function appPlan(
  service: ResolvedService,
  index: number,
  scenario: ResolvedScenario,
  services: Map<string, ResolvedService>,
  meshImage: string,
  userImages: Readonly<Record<string, string>>,
): AppPlan {
  const startAfter = service.dependsOn ?? [];
  const user = service.image;
  const defaults = DEFAULTS.resources[user ? "userImage" : "fixture"];
  const resources = {
    memoryBytes: service.resources?.memoryBytes ?? parseMemorySize(defaults.memory)!,
    pids: service.resources?.pids ?? defaults.pids,
  };
  if (!user) {
    return {
      image: meshImage,
      kind: "fixture",
      env: fixtureEnv(service, index, scenario, services),
      command: FIXTURE_COMMAND,
      entrypoint: null,
      user: null,
      workingDir: null,
      port: service.port,
      health: service.health,
      readiness: { kind: "http", path: service.health },
      startAfter,
      resources,
    };
  }
  const source = user.source;
  const fallback = source.kind === "image" ? source.ref : `<build ${join(source.context, source.dockerfile)}>`;
  return {
    image: userImages[service.name] ?? fallback,
    kind: "user",
    env: { ...user.env },
    command: user.command,
    entrypoint: user.entrypoint,
    user: user.user,
    workingDir: user.workingDir,
    port: service.port,
    health: service.health,
    readiness: user.readiness,
    startAfter,
    resources,
  };
}

/** The load's first GET path (a user's app may answer nothing on "/"), else "/". */
function meshProbePath(scenario: ResolvedScenario): string {
  return scenario.load.requests.find((r) => r.method === "GET")?.path ?? "/";
}

/**
 * The headers the fixture passes on to its callees besides x-request-id and x-mq-*: those a
 * route or a fault matches on, so a request keeps them hop after hop as an app propagating
 * context (baggage, a canary flag) would.
 */
export function propagated(scenario: ResolvedScenario): string[] {
  const names = new Set<string>();
  for (const policy of Object.values(scenario.policies)) {
    for (const r of policy.routes ?? []) if ("header" in r.match) names.add(r.match.header.toLowerCase());
  }
  for (const f of scenario.faults) if (f.match) names.add(f.match.header.toLowerCase());
  return [...names].filter((h) => h !== "x-request-id" && !h.startsWith("x-mq-")).sort();
}

function versionField(service: ResolvedService, index: number): { version?: string } {
  const version = versionOf(service, index);
  return version ? { version: version.name } : {};
}

function versionAlias(service: ResolvedService, index: number, services: Map<string, ResolvedService>): string[] {
  const version = versionOf(service, index);
  // Not when a service is named <service>-<version>: its own pods have those names.
  if (!version || services.has(`${service.name}-${version.name}`)) return [];
  return [`${service.name}-${version.name}-${version.replicas.indexOf(index)}`];
}

/** True when any destination of the run is reached over mutual TLS. */
export function mutualTlsApplies(scenario: ResolvedScenario): boolean {
  return scenario.services.some((s) => scenario.policies[s.name]?.tls === "mutual");
}

function upstreamOf(service: ResolvedService, scenario: ResolvedScenario): UpstreamRef {
  const mutual = scenario.policies[service.name]!.tls === "mutual";
  // Over mutual TLS, callers reach each replica's mTLS listener; otherwise its plaintext one.
  const port = mutual ? POD_PORTS.mtlsInbound : POD_PORTS.inbound;
  return {
    service: service.name,
    replicas: Array.from({ length: service.replicas }, (_, index) => {
      const version = versionOf(service, index);
      return { index, host: `${service.name}-${index}`, port, ...(version ? { version: version.name } : {}) };
    }),
    policy: scenario.policies[service.name]!,
    ...(service.protocol ? { protocol: service.protocol } : {}),
    ...(mutual ? { tls: "mutual" as const } : {}),
  };
}

function fixtureEnv(
  service: ResolvedService,
  index: number,
  scenario: ResolvedScenario,
  services: Map<string, ResolvedService>,
): Record<string, string> {
  // A version's own knobs (resolve.ts fills in the service's where it gave none).
  const version = versionOf(service, index);
  const knobs = version ?? service;
  const forward = propagated(scenario);
  return {
    MQ_SERVICE: service.name,
    MQ_REPLICA: String(index),
    MQ_PORT: String(service.port),
    MQ_LATENCY_MIN_MS: String(knobs.latency.minMs),
    MQ_LATENCY_MAX_MS: String(knobs.latency.maxMs),
    MQ_ERROR_RATE: String(knobs.errorRate),
    ...(knobs.failFirst ? { MQ_FAIL_FIRST: String(knobs.failFirst) } : {}),
    MQ_CALLS: service.calls.map((c) => `${c}:${services.get(c)!.port}`).join(","),
    ...(forward.length ? { MQ_FORWARD: forward.join(",") } : {}),
    MQ_SEED: String(scenario.seed),
    ...(service.protocol ? { MQ_PROTOCOL: service.protocol } : {}),
    ...(version ? { MQ_VERSION: version.name } : {}),
  };
}
