// Where a request's CPU goes: each container's cgroup (cgroup v1 cpuacct or v2 cpu.stat), grouped by
// role, plus dockerd and this process (the harness and its generator threads) from /proc.
import { readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import type { BenchMesh } from "./mesh.js";

export type CpuSnapshot = Record<string, number>; // µs of CPU so far, by group

async function cgroupUsec(id: string): Promise<number> {
  const layouts: Array<[string, RegExp, number]> = [
    [`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, /^(\d+)/, 1000], // v1: ns
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, /usage_usec (\d+)/, 1], // v2 (systemd)
    [`/sys/fs/cgroup/docker/${id}/cpu.stat`, /usage_usec (\d+)/, 1], // v2 (cgroupfs)
  ];
  for (const [path, re, per] of layouts) {
    try {
      const m = re.exec(await readFile(path, "utf8"));
      if (m) return Number(m[1]) / per;
    } catch {
      // next layout
    }
  }
  return 0;
}

async function procUsec(pid: number): Promise<number> {
  try {
    const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]!.split(" ");
    return ((Number(stat[11]) + Number(stat[12])) * 1e6) / 100; // utime + stime in clock ticks (100 Hz)
  } catch {
    return 0;
  }
}

const pidsOf = (name: string): number[] => {
  try {
    return execFileSync("pidof", [name], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
  } catch {
    return [];
  }
};

export async function cpuSnapshot(mesh: BenchMesh): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = { sidecars: 0, apps: 0, dockerd: 0, containerd: 0, "generator+harness": 0 };
  for (const pod of mesh.topology.pods) {
    snap.sidecars! += await cgroupUsec(pod.ids.proxy);
    const app = await cgroupUsec(pod.ids.app);
    snap.apps! += app;
    snap[`  app ${pod.plan.service}`] = (snap[`  app ${pod.plan.service}`] ?? 0) + app;
  }
  for (const pid of pidsOf("dockerd")) snap.dockerd! += await procUsec(pid);
  for (const pid of [...pidsOf("containerd"), ...pidsOf("containerd-shim-runc-v2"), ...pidsOf("docker-proxy")]) snap.containerd! += await procUsec(pid);
  const u = process.cpuUsage();
  snap["generator+harness"] = u.user + u.system;
  return snap;
}

/** ms of CPU per request, by group, between two snapshots. */
export function cpuPerRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const k of Object.keys(after)) {
    const ms = (after[k]! - (before[k] ?? 0)) / 1000 / Math.max(1, requests);
    out[k] = ms;
    if (!k.startsWith(" ")) total += ms; // indented keys are parts of another
  }
  out.total = total;
  return out;
}
