import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { eachPod } from "./each-pod.js";
import { IMAGE_LABEL, ROLE_LABEL, RUN_ID_LABEL } from "./labels.js";
import { localProcesses, ownerFromLabels, ownerState, type OwnerState, type ProcessTable, type RunOwner } from "./owner.js";
import { removeStaleRunDirs, RUN_DIR_PREFIX } from "./run-dir.js";

export interface CleanResult {
  containers: string[];
  networks: string[];
  errors: string[];
}

/**
 * Removes every container and network of one run (or, without a run id, everything labelled by
 * meshquake: only `clean --all` asks for that), containers first: a network cannot go while a
 * container is attached. Removing a proxy container takes its network namespace with it, and
 * with it every partition rule and redirect of that pod. A run's host directory goes too.
 */
export async function cleanLeftovers(docker: Docker, runId?: string): Promise<CleanResult> {
  const label = runId ? `${RUN_ID_LABEL}=${runId}` : RUN_ID_LABEL;
  const result: CleanResult = { containers: [], networks: [], errors: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await removeContainers(docker, containers, result);
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  await removeNetworks(docker, networks, result);
  if (runId) {
    for (const base of new Set([tmpdir(), "/tmp"])) await rm(join(base, `${RUN_DIR_PREFIX}${runId}`), { recursive: true, force: true });
  }
  return result;
}

/** Containers that own a pod's network namespace, removed after the apps that join them. */
const NAMESPACE_ROLES = new Set(["proxy", "infra"]);

/**
 * Proxy containers removed at once. They hold the pods' network endpoints, and Docker 20.10 removing
 * dozens of them at the same moment once left a network with an endpoint it could no longer remove
 * ("has active endpoints", until dockerd restarts); a few at a time costs no time measurably (the
 * engine serialises the removals anyway).
 */
const PROXY_REMOVALS_AT_ONCE = 4;

async function removeContainers(docker: Docker, containers: Docker.ContainerInfo[], result: CleanResult): Promise<void> {
  // Apps first (they join the proxy container's namespace), then the proxy containers ("infra":
  // the namespace holders of runs by versions before 0.3, which kept the sidecar apart).
  const byRole = (c: Docker.ContainerInfo) => (NAMESPACE_ROLES.has(c.Labels[ROLE_LABEL] ?? "") ? 1 : 0);
  const remove = async (c: Docker.ContainerInfo) => {
    const name = c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12);
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
      result.containers.push(name);
    } catch (err) {
      if (!isNotFound(err)) result.errors.push(`container ${name}: ${message(err)}`);
    }
  };
  await Promise.all(containers.filter((c) => byRole(c) === 0).map(remove));
  await eachPod(containers.filter((c) => byRole(c) === 1), undefined, remove, PROXY_REMOVALS_AT_ONCE);
}

async function removeNetworks(docker: Docker, networks: Docker.NetworkInspectInfo[], result: CleanResult): Promise<void> {
  for (const n of networks) {
    // The engine releases a removed container's endpoint a moment after the removal returns.
    for (let attempt = 1; ; attempt++) {
      try {
        await docker.getNetwork(n.Id).remove();
        result.networks.push(n.Name);
        break;
      } catch (err) {
        if (isNotFound(err)) break;
        if (attempt < 5 && /active endpoints/.test(message(err))) {
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        const hint = /active endpoints/.test(message(err)) ? " (an endpoint the engine lost track of: restarting dockerd releases it)" : "";
        result.errors.push(`network ${n.Name}: ${message(err)}${hint}`);
        break;
      }
    }
  }
}

export interface KeptRun {
  runId: string;
  owner: RunOwner | null;
  state: Exclude<OwnerState, "gone">;
}

export interface OrphanCleanResult extends CleanResult {
  /** Runs left alone: their harness still runs here, or ran on another host. */
  kept: KeptRun[];
  /** Run directories removed from this machine. */
  runDirs: string[];
}

/**
 * `meshquake clean`: removes the runs whose harness process is gone (every container, network
 * and run directory of theirs), and leaves alone the runs still owned by a live harness on this
 * machine, by one on another host (which cannot be checked from here), or by nobody known (made
 * before owners were recorded: possibly still running) — unless `all`.
 */
export async function cleanOrphans(docker: Docker, opts: { all?: boolean; processes?: ProcessTable; runDirBase?: string } = {}): Promise<OrphanCleanResult> {
  const processes = opts.processes ?? localProcesses;
  const result: OrphanCleanResult = { containers: [], networks: [], errors: [], kept: [], runDirs: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [RUN_ID_LABEL] } });
  const networks = await docker.listNetworks({ filters: { label: [RUN_ID_LABEL] } });
  const owners = new Map<string, RunOwner | null>();
  for (const { Labels } of [...containers, ...networks]) {
    const runId = Labels?.[RUN_ID_LABEL];
    if (runId && !owners.get(runId)) owners.set(runId, ownerFromLabels(Labels));
  }
  const live = new Set<string>();
  for (const [runId, owner] of owners) {
    const state = opts.all ? "gone" : ownerState(owner, processes);
    if (state !== "gone") {
      live.add(runId);
      result.kept.push({ runId, owner: owner ?? null, state });
    }
  }
  const orphan = (labels: Record<string, string> | undefined) => !live.has(labels?.[RUN_ID_LABEL] ?? "");
  await removeContainers(docker, containers.filter((c) => orphan(c.Labels)), result);
  await removeNetworks(docker, networks.filter((n) => orphan(n.Labels)), result);
  result.runDirs = await removeStaleRunDirs({ all: opts.all, keep: live, processes, ...(opts.runDirBase ? { base: opts.runDirBase } : {}) });
  return result;
}

export function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: number }).statusCode === 404;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Removes meshquake's built images (label meshquake.image) that no container uses, except those
 * named in `keep` (the current mesh image) and the Debian base images, which take a minute to
 * remake offline. Each content change of the fixture or templates leaves an older tag behind.
 */
export async function cleanImages(docker: Docker, keep: string[]): Promise<{ removed: string[]; errors: string[] }> {
  const images = await docker.listImages({ filters: { label: [IMAGE_LABEL] } });
  const used = new Set((await docker.listContainers({ all: true })).map((c) => c.ImageID));
  const removed: string[] = [];
  const errors: string[] = [];
  for (const img of images) {
    const tags = (img.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    if (used.has(img.Id) || tags.some((t) => keep.includes(t) || t.startsWith("meshquake/base:"))) continue;
    try {
      await docker.getImage(img.Id).remove({ force: false });
      removed.push(tags[0] ?? img.Id.slice(7, 19));
    } catch (err) {
      if (!isNotFound(err)) errors.push(`image ${tags[0] ?? img.Id}: ${message(err)}`);
    }
  }
  return { removed, errors };
}
