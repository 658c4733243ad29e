import type Docker from "dockerode";
import { RUN_ID_LABEL } from "./labels.js";

export interface CleanResult {
  containers: string[];
  networks: string[];
  errors: string[];
}

/**
 * Removes every container and network labelled by meshquake (or only one run's), containers
 * first: a network cannot go while a container is attached. Removing an infra container takes
 * its network namespace with it, and with it every partition rule and redirect of that pod.
 */
export async function cleanLeftovers(docker: Docker, runId?: string): Promise<CleanResult> {
  const label = runId ? `${RUN_ID_LABEL}=${runId}` : RUN_ID_LABEL;
  const result: CleanResult = { containers: [], networks: [], errors: [] };
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  // Members of a pod first (they join the infra container's namespace), then the infra containers.
  const byRole = (c: Docker.ContainerInfo) => (c.Labels["meshquake.role"] === "infra" ? 1 : 0);
  containers.sort((a, b) => byRole(a) - byRole(b));
  for (const group of [containers.filter((c) => byRole(c) === 0), containers.filter((c) => byRole(c) === 1)]) {
    await Promise.all(
      group.map(async (c) => {
        const name = c.Names[0]?.replace(/^\//, "") ?? c.Id.slice(0, 12);
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
          result.containers.push(name);
        } catch (err) {
          if (!isNotFound(err)) result.errors.push(`container ${name}: ${message(err)}`);
        }
      }),
    );
  }
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  for (const n of networks) {
    try {
      await docker.getNetwork(n.Id).remove();
      result.networks.push(n.Name);
    } catch (err) {
      if (!isNotFound(err)) result.errors.push(`network ${n.Name}: ${message(err)}`);
    }
  }
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
  const images = await docker.listImages({ filters: { label: ["meshquake.image"] } });
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
