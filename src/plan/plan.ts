import type { DataPlane, UpstreamRef } from "../dataplane/types.js";
import type { ResolvedScenario, ResolvedService } from "../scenario/types.js";
import { POD_PORTS, type ExecutionPlan, type PodPlan } from "./types.js";
import { planTimeline, planWindows } from "./windows.js";

export interface PlanInput {
  scenario: ResolvedScenario;
  runId: string;
  image: string;
  dataPlane: DataPlane;
}

export const FIXTURE_COMMAND = ["node", "/opt/meshquake/service/server.js"];

/** Everything the run will create and do, decided without touching Docker. */
export function buildPlan({ scenario, runId, image, dataPlane }: PlanInput): ExecutionPlan {
  const services = new Map(scenario.services.map((s) => [s.name, s]));
  const warnings: string[] = [];
  const pods: PodPlan[] = [];
  for (const service of scenario.services) {
    const upstreams = service.calls.map((name) => upstreamOf(services.get(name)!, scenario));
    for (let index = 0; index < service.replicas; index++) {
      const id = `${service.name}-${index}`;
      const rendering = dataPlane.renderSidecar({
        service,
        index,
        upstreams,
        ports: { ...POD_PORTS, app: service.port },
        seed: scenario.seed,
      });
      if (index === 0) warnings.push(...rendering.warnings.map((w) => `${service.name}: ${w}`));
      pods.push({
        service: service.name,
        index,
        id,
        containers: { infra: `${runId}-${id}`, app: `${runId}-${id}-app`, sidecar: `${runId}-${id}-proxy` },
        aliases: [id, service.name],
        app: { env: fixtureEnv(service, index, scenario, services), command: FIXTURE_COMMAND, port: service.port, health: service.health },
        sidecar: { files: rendering.files, command: rendering.command },
        publishInbound: service.name === scenario.load.target && index === 0,
      });
    }
  }
  return {
    runId,
    scenario,
    image,
    network: runId,
    labels: { "meshquake.run-id": runId, "meshquake.scenario": scenario.name },
    pods,
    timeline: planTimeline(scenario),
    windows: planWindows(scenario),
    warnings: [...new Set(warnings)],
  };
}

function upstreamOf(service: ResolvedService, scenario: ResolvedScenario): UpstreamRef {
  return {
    service: service.name,
    replicas: Array.from({ length: service.replicas }, (_, index) => ({
      index,
      host: `${service.name}-${index}`,
      port: POD_PORTS.inbound,
    })),
    policy: scenario.policies[service.name]!,
  };
}

function fixtureEnv(
  service: ResolvedService,
  index: number,
  scenario: ResolvedScenario,
  services: Map<string, ResolvedService>,
): Record<string, string> {
  return {
    MQ_SERVICE: service.name,
    MQ_REPLICA: String(index),
    MQ_PORT: String(service.port),
    MQ_LATENCY_MIN_MS: String(service.latency.minMs),
    MQ_LATENCY_MAX_MS: String(service.latency.maxMs),
    MQ_ERROR_RATE: String(service.errorRate),
    MQ_CALLS: service.calls.map((c) => `${c}:${services.get(c)!.port}`).join(","),
    MQ_SEED: String(scenario.seed),
  };
}
