// Shared by the benches: a real meshed topology started from a scenario text, the way `run`
// starts one, with its sidecar lines counted, and a way to run a host program inside a pod's
// network namespace (nsenter; the benches run as root, as the engine set-up does).
import { spawn } from "node:child_process";
import { join } from "node:path";
import Docker from "dockerode";
import { dataPlaneFor } from "../../src/dataplane/registry.js";
import { buildPlan } from "../../src/plan/plan.js";
import type { ExecutionPlan } from "../../src/plan/types.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { ensureImages } from "../../src/runtime/images.js";
import { startTopology, type StartedPod, type StartedTopology, type TopologyOptions } from "../../src/runtime/topology.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";

export const docker = new Docker();

export interface BenchMesh {
  runId: string;
  plan: ExecutionPlan;
  topology: StartedTopology;
  /** Sidecar lines seen so far. */
  lines(): number;
  pod(id: string): StartedPod;
  /** The pid of a pod's proxy container (it owns the network namespace). */
  netnsPid(id: string): Promise<number>;
  /** Removes everything the mesh made; a SIGINT or SIGTERM before it calls it and exits 130. */
  close(): Promise<void>;
}

let image: Promise<string> | null = null;
export function benchImage(): Promise<string> {
  image ??= ensureImages(docker, { projectRoot: join(import.meta.dirname, "../.."), log: () => {} }).then((r) => r.image);
  return image;
}

export interface BenchMeshOptions {
  /** false: the same sidecars without access logs (what observation costs). */
  accessLog?: boolean;
}

export async function startBenchMesh(
  name: string,
  yaml: string,
  opts: Pick<TopologyOptions, "onStep" | "podConcurrency"> = {},
  mesh: BenchMeshOptions = {},
): Promise<BenchMesh> {
  const parsed = parseScenario(`${name}.yaml`, yaml);
  const errors = parsed.problems.filter((p) => p.severity === "error");
  if (errors.length || !parsed.scenario) throw new Error(`${name}: ${errors.map((e) => e.message).join("; ")}`);
  const runId = `bench-${name}-${process.pid}-${Date.now().toString(36)}`;
  const plan = buildPlan({ scenario: parsed.scenario, runId, image: await benchImage(), dataPlane: dataPlaneFor("haproxy") });
  if (mesh.accessLog === false) {
    for (const pod of plan.pods) for (const f of pod.sidecar.files) f.content = f.content.replace(/^\s*log global\n/m, "");
  }
  let count = 0;
  let topology: StartedTopology;
  try {
    topology = await startTopology(docker, plan, { ...opts, onSidecarLine: () => count++ });
  } catch (err) {
    await cleanLeftovers(docker, runId);
    throw err;
  }
  const pod = (id: string) => topology.pods.find((p) => p.plan.id === id)!;
  // Ctrl-C or a kill during a bench removes the mesh before the process ends (exit 130).
  const stop = () => void close().finally(() => process.exit(130));
  process.once("SIGINT", stop).once("SIGTERM", stop);
  const close = async () => {
    process.off("SIGINT", stop).off("SIGTERM", stop);
    await topology.stopLogs().catch(() => {});
    const left = await cleanLeftovers(docker, runId);
    if (left.errors.length) console.error(`${runId}: left behind: ${left.errors.join("; ")}`);
  };
  return {
    runId,
    plan,
    topology,
    lines: () => count,
    pod,
    netnsPid: async (id) => (await docker.getContainer(pod(id).ids.proxy).inspect()).State.Pid,
    close,
  };
}

/** Runs `cmd args` inside the network namespace of process `pid`; resolves to its stdout. */
export function inNetns(pid: number, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=/proc/${pid}/ns/net`, "--", cmd, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
  });
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
}

/** wrk's --latency output → req/s and p50/p99 in ms. */
export function parseWrk(out: string): WrkResult {
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!m) throw new Error(`wrk output without ${label}%: ${out}`);
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  return { rps: Number(rps?.[1] ?? NaN), p50: ms("50"), p99: ms("99") };
}
