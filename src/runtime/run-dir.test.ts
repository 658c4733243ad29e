import { mkdir, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { currentOwner, type ProcessTable } from "./owner.js";
import { createRunDir, removeStaleRunDirs, runDirBase, SOCKET_PATH_MAX } from "./run-dir.js";

let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "mq-rd-"));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe("a run's host directory", () => {
  it("is private to the harness's user and gives each pod its own directory for the sidecar", async () => {
    const dir = await createRunDir("mq-x-abc123", currentOwner(), { base, sidecarUid: 1337, pods: 3 });
    expect(dir.path).toBe(join(base, "meshquake-mq-x-abc123"));
    expect((await stat(dir.path)).mode & 0o777).toBe(0o700);
    const pod = await dir.podDir(2);
    expect(pod).toBe(join(dir.path, "p2"));
    const info = await stat(pod);
    if (process.getuid?.() === 0) expect([info.uid, info.mode & 0o777]).toEqual([1337, 0o700]);
    else expect(info.mode & 0o777).toBe(0o777);
    expect(dir.adminSocket(2)).toBe(join(pod, "admin.sock"));
    await dir.remove();
    expect(await readdir(base)).toEqual([]);
  });

  it("keeps socket paths within sun_path: falls back to /tmp, refuses a base that still does not fit", async () => {
    const deep = `/${"d".repeat(90)}`;
    expect(runDirBase("mq-checkout-survives-payme-abc123", 40, deep)).toBe("/tmp");
    expect(runDirBase("mq-x-abc123", 4, "/tmp")).toBe("/tmp");
    await expect(createRunDir("mq-x-abc123", currentOwner(), { base: deep, sidecarUid: 1337, pods: 2 })).rejects.toThrow(
      new RegExp(`admin socket paths would be \\d+ bytes \\(at most ${SOCKET_PATH_MAX}\\)`),
    );
  });

  it("clean removes only directories whose harness is gone (all with --all), and nothing it did not make", async () => {
    const alive = { pid: 10, host: "h", started: "b:1" };
    const dead = { pid: 11, host: "h", started: "b:2" };
    const processes: ProcessTable = { host: "h", startedOf: (pid) => (pid === 10 ? "b:1" : null) };
    await createRunDir("mq-alive-000001", alive, { base, sidecarUid: 1337, pods: 1 });
    await createRunDir("mq-dead-000002", dead, { base, sidecarUid: 1337, pods: 1 });
    await mkdir(join(base, "meshquake-not-ours"));
    expect(await removeStaleRunDirs({ base, processes })).toEqual(["mq-dead-000002"]);
    expect((await readdir(base)).sort()).toEqual(["meshquake-mq-alive-000001", "meshquake-not-ours"]);
    expect(await removeStaleRunDirs({ base, processes, keep: new Set(["mq-alive-000001"]), all: true })).toEqual([]);
    expect(await removeStaleRunDirs({ base, processes, all: true })).toEqual(["mq-alive-000001"]);
    expect(await readdir(base)).toEqual(["meshquake-not-ours"]);
  });
});
