// Shared by the faults-*.test.ts files: a small real meshed topology with its sidecar logs, a
// timed HTTP client against the ingress, request loops, and the numbers the tests print.
import http from "node:http";
import { performance } from "node:perf_hooks";
import { expect } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import { haproxyFaultCounters } from "../../src/dataplane/haproxy/faults.js";
import type { AccessLogEntry, DataPlane } from "../../src/dataplane/types.js";
import type { InjectionContext } from "../../src/faults/injector.js";
import { buildPlan } from "../../src/plan/plan.js";
import type { ExecutionPlan } from "../../src/plan/types.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { startTopology, type StartedPod, type StartedTopology, type TopologyOptions } from "../../src/runtime/topology.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import type { ResolvedFault, ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, testDocker, testImage } from "./docker-env.js";

/** The HAProxy data plane with its fault counters and on-time starts wired (what the lead wires into index.ts). */
export const dataPlane: DataPlane = { ...haproxyDataPlane, faultCounters: haproxyFaultCounters, startsFaultsOnTime: true };

export interface Mesh {
  runId: string;
  scenario: ResolvedScenario;
  plan: ExecutionPlan;
  topology: StartedTopology;
  /** Every access-log entry every sidecar wrote so far. */
  entries: AccessLogEntry[];
  /** Every raw line every sidecar wrote so far, with its pod. */
  lines: Array<{ pod: string; line: string }>;
  ctx: InjectionContext;
  pod(id: string): StartedPod;
  fault(name: string): ResolvedFault;
  close(): Promise<void>;
}

export function runIdFor(name: string): string {
  return `dev-flt-${name}-${process.pid}-${Date.now().toString(36)}`;
}

/**
 * Parses the scenario, builds its plan and starts it. `appCommands` replaces a pod's app (by pod
 * id) for a test that needs something the fixture does not do (a large response).
 */
export async function startMesh(
  name: string,
  yaml: string,
  appCommands: Record<string, string[]> = {},
  topologyOptions: Pick<TopologyOptions, "adminTransport" | "readinessTimeoutMs"> = {},
): Promise<Mesh> {
  const docker = testDocker();
  const runId = runIdFor(name);
  const parsed = parseScenario(`${name}.yaml`, yaml);
  expect(parsed.problems.filter((p) => p.severity === "error")).toEqual([]);
  const scenario = parsed.scenario!;
  const plan = buildPlan({ scenario, runId, image: await testImage(), dataPlane });
  for (const pod of plan.pods) if (appCommands[pod.id]) pod.app.command = appCommands[pod.id]!;
  const entries: AccessLogEntry[] = [];
  const lines: Array<{ pod: string; line: string }> = [];
  let topology: StartedTopology | null = null;
  const close = async () => {
    await topology?.stopLogs().catch(() => {});
    await cleanLeftovers(docker, runId);
    expect(await labelled(docker, runId)).toEqual({ containers: 0, networks: 0 });
  };
  try {
    topology = await startTopology(docker, plan, {
      ...topologyOptions,
      onSidecarLine: (pod, line) => {
        lines.push({ pod: pod.id, line });
        const e = dataPlane.parseLogLine(line);
        if (e) entries.push(e);
      },
    });
  } catch (err) {
    await cleanLeftovers(docker, runId);
    throw err;
  }
  const started = topology;
  return {
    runId,
    scenario,
    plan,
    topology: started,
    entries,
    lines,
    ctx: { docker, dataPlane, pods: started.pods, network: plan.network },
    pod: (id) => started.pods.find((p) => p.plan.id === id)!,
    fault: (n) => scenario.faults.find((f) => f.name === n)!,
    close,
  };
}

export interface Answer {
  status: number | null;
  error: string | null;
  /** performance.now() at send and at the last byte (or the error). */
  startedAt: number;
  endedAt: number;
  ms: number;
  /** Epoch ms at send. */
  sentEpochMs: number;
  body: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function destroyAgent(): void {
  agent.destroy();
}

/** GET url with the given headers; never throws: transport errors become `error`. */
export function get(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    const sentEpochMs = Date.now();
    const done = (status: number | null, error: string | null, body: string) => {
      const endedAt = performance.now();
      resolve({ status, error, startedAt, endedAt, ms: endedAt - startedAt, sentEpochMs, body });
    };
    const req = http.get(url, { headers, agent, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => done(res.statusCode ?? null, null, body));
      res.on("error", (e) => done(res.statusCode ?? null, e.message, body));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => done(null, e.message, ""));
  });
}

export async function sequential(n: number, url: string, headers: Record<string, string> = {}): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) out.push(await get(url, headers));
  return out;
}

/** `n` concurrent request loops against `url` until stop() is called; stop resolves to every answer. */
export function loops(n: number, url: string, headers: Record<string, string> = {}): { stop(): Promise<Answer[]>; answers: Answer[] } {
  let stopped = false;
  const answers: Answer[] = [];
  const running = Array.from({ length: n }, async () => {
    while (!stopped) answers.push(await get(url, headers));
  });
  return {
    answers,
    async stop() {
      stopped = true;
      await Promise.all(running);
      return answers;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for the sidecars' last log lines to arrive. */
export const settleLogs = () => sleep(400);

export function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round1 = (x: number) => Math.round(x * 10) / 10;

/** Inbound entries at a pod (from a caller, when given) accepted in [from, to). */
export function inboundAt(entries: AccessLogEntry[], pod: string, from: number, to: number, caller?: string): AccessLogEntry[] {
  return entries.filter((e) => e.direction === "inbound" && e.pod === pod && e.ts >= from && e.ts < to && (caller === undefined || e.from === caller));
}
