import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanOrphans } from "./clean.js";
import { ownerLabels, type ProcessTable, type RunOwner } from "./owner.js";
import { createRunDir } from "./run-dir.js";

/** An engine holding labelled containers and networks, recording what is removed. */
function fakeEngine(items: Array<{ kind: "container" | "network"; name: string; labels: Record<string, string> }>) {
  const removed: string[] = [];
  const docker = {
    listContainers: async () =>
      items.filter((i) => i.kind === "container").map((i) => ({ Id: i.name, Names: [`/${i.name}`], Labels: i.labels })),
    listNetworks: async () => items.filter((i) => i.kind === "network").map((i) => ({ Id: i.name, Name: i.name, Labels: i.labels })),
    getContainer: (id: string) => ({ remove: async () => void removed.push(id) }),
    getNetwork: (id: string) => ({ remove: async () => void removed.push(id) }),
  } as unknown as Docker;
  return { docker, removed };
}

const alive: RunOwner = { pid: 10, host: "ci", started: "b:1" };
const dead: RunOwner = { pid: 11, host: "ci", started: "b:2" };
const reused: RunOwner = { pid: 10, host: "ci", started: "b:0" }; // pid 10 now belongs to another process
const remote: RunOwner = { pid: 10, host: "laptop", started: "b:1" };
const processes: ProcessTable = { host: "ci", startedOf: (pid) => (pid === 10 ? "b:1" : null) };

const run = (runId: string, owner: RunOwner | null) => {
  const labels = { "meshquake.run-id": runId, ...(owner ? ownerLabels(owner) : {}) };
  return [
    { kind: "container" as const, name: `${runId}-a-0-app`, labels: { ...labels, "meshquake.role": "app" } },
    { kind: "container" as const, name: `${runId}-a-0`, labels: { ...labels, "meshquake.role": "infra" } },
    { kind: "network" as const, name: runId, labels },
  ];
};

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "mq-clean-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("meshquake clean", () => {
  it("removes only runs whose harness is gone (a reused pid counts as gone); keeps live, remote and ownerless runs", async () => {
    const { docker, removed } = fakeEngine([...run("mq-live", alive), ...run("mq-dead", dead), ...run("mq-reused", reused), ...run("mq-remote", remote), ...run("mq-old", null)]);
    await createRunDir("mq-live", alive, { base, sidecarUid: 1337, pods: 1 });
    await createRunDir("mq-dead", dead, { base, sidecarUid: 1337, pods: 1 });
    const r = await cleanOrphans(docker, { processes, runDirBase: base });
    expect([...removed].sort()).toEqual(["mq-dead", "mq-dead-a-0", "mq-dead-a-0-app", "mq-reused", "mq-reused-a-0", "mq-reused-a-0-app"]);
    // Members of a pod before its infra container, containers before networks.
    expect(removed.indexOf("mq-dead-a-0-app")).toBeLessThan(removed.indexOf("mq-dead-a-0"));
    expect(removed.indexOf("mq-dead-a-0")).toBeLessThan(removed.indexOf("mq-dead"));
    expect(r.kept.map((k) => [k.runId, k.state])).toEqual([
      ["mq-live", "alive"],
      ["mq-remote", "elsewhere"],
      ["mq-old", "unknown"],
    ]);
    expect(r.runDirs).toEqual(["mq-dead"]);
    expect(await readdir(base)).toEqual(["meshquake-mq-live"]);
  });

  it("--all removes every run, live or not", async () => {
    const { docker, removed } = fakeEngine([...run("mq-live", alive), ...run("mq-old", null)]);
    await createRunDir("mq-live", alive, { base, sidecarUid: 1337, pods: 1 });
    const r = await cleanOrphans(docker, { all: true, processes, runDirBase: base });
    expect(removed).toHaveLength(6);
    expect(r.kept).toEqual([]);
    expect(await readdir(base)).toEqual([]);
  });
});
