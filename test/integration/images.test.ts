// ensureImages against the real Docker engine: the first call may debootstrap a base (about 40 s
// on a fresh machine); everything after reuses it. Containers carry this run's label and are
// removed at the end; images are a cache (label meshquake.image=1) and stay, except the ones
// built here from modified copies of the tree.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanImages } from "../../src/runtime/clean.js";
import { dockerBuild } from "../../src/runtime/docker-build.js";
import { ensureImages, ImageBuildError, type EnsuredImages } from "../../src/runtime/images.js";
import { tarArchive } from "../../src/runtime/tar.js";

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RUN_ID = `dev-h3-images-${process.pid}-${Date.now().toString(36)}`;
const LABELS = { "meshquake.run-id": RUN_ID };

const docker = new Docker();
const logged: string[] = [];
const log = (line: string) => logged.push(line);
const scratchDirs: string[] = [];
const scratchImages: string[] = [];
let first: EnsuredImages;

beforeAll(async () => {
  first = await ensureImages(docker, { log, projectRoot: PROJECT_ROOT });
}, 15 * 60_000);

afterAll(async () => {
  const containers = await docker.listContainers({ all: true, filters: { label: [`meshquake.run-id=${RUN_ID}`] } });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true });
  for (const image of scratchImages) await docker.getImage(image).remove().catch(() => undefined);
  for (const dir of scratchDirs) await rm(dir, { recursive: true, force: true });
});

async function exec(container: Docker.Container, cmd: string[]): Promise<{ code: number | null; out: string }> {
  const execution = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await execution.start({ hijack: true, stdin: false });
  let out = "";
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => (out += chunk.toString()));
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise((resolve) => stream.on("end", resolve));
  return { code: (await execution.inspect()).ExitCode, out };
}

/** A copy of just the files the image is made of, to change without touching the checkout. */
async function copyOfTree(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "meshquake-images-test-"));
  scratchDirs.push(dir);
  for (const path of ["images", "fixtures/service"]) {
    await cp(join(PROJECT_ROOT, path), join(dir, path), { recursive: true });
  }
  return dir;
}

describe("ensureImages", () => {
  it("returns a content-hashed tag labelled as a meshquake image", async () => {
    expect(first.image).toMatch(/^meshquake\/mesh:[0-9a-f]{12}$/);
    const info = await docker.getImage(first.image).inspect();
    expect(info.Config.Labels).toMatchObject({ "meshquake.image": "1" });
    expect(info.Config.Labels).not.toHaveProperty("meshquake.run-id");
    console.log(`first call: ${first.built ? "built" : "reused"} ${first.image} on ${first.base} in ${first.ms.toFixed(0)} ms`);
    for (const line of logged) console.log(`  ${line}`);
  });

  it("reuses the image for an unchanged tree, quickly and silently", async () => {
    const before = logged.length;
    const start = performance.now();
    const again = await ensureImages(docker, { log, projectRoot: PROJECT_ROOT });
    const ms = performance.now() - start;
    expect(again).toMatchObject({ image: first.image, base: first.base, built: false });
    expect(ms).toBeLessThan(3000);
    expect(logged.length).toBe(before);
    console.log(`reuse: ${ms.toFixed(0)} ms`);
  });

  it("has HAProxy 2.6, Node 18 and iptables, and runs the fixture by default", async () => {
    const container = await docker.createContainer({
      name: `${RUN_ID}-fixture`,
      Image: first.image,
      Labels: LABELS,
      Env: ["MQ_SERVICE=probe", "MQ_REPLICA=3"],
    });
    await container.start();

    const haproxy = await exec(container, ["haproxy", "-v"]);
    expect(haproxy.out).toMatch(/HAProxy version 2\.6\./);
    expect((await exec(container, ["node", "--version"])).out.trim()).toMatch(/^v18\./);
    expect((await exec(container, ["iptables", "--version"])).out).toMatch(/^iptables v1\.8/);
    expect((await exec(container, ["ip", "-V"])).code).toBe(0);
    expect((await exec(container, ["ls", "/usr/local/lib/meshquake/pod", "/usr/local/lib/meshquake/haproxy"])).code).toBe(0);

    const probe = `require("http").get("http://127.0.0.1:8080/", (res) => { let b = ""; res.on("data", (c) => (b += c));
      res.on("end", () => { process.stdout.write(res.statusCode + " " + b); }); }).on("error", (e) => { process.stdout.write("ERR " + e.message); process.exitCode = 1; });`;
    let answer = { code: null as number | null, out: "" };
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      answer = await exec(container, ["node", "-e", probe]);
      if (answer.code === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const logs = (await container.logs({ stdout: true, stderr: true })).toString();
    expect(answer.code, `fixture did not answer within 10 s: ${answer.out}\ncontainer log:\n${logs}`).toBe(0);
    expect(answer.out).toBe(`200 ${JSON.stringify({ service: "probe", replica: 3, calls: [] })}`);
    expect(logs).toContain("fixture probe-3 listening on 0.0.0.0:8080");

    const stopping = performance.now();
    await container.stop({ t: 10 });
    expect(performance.now() - stopping, "the fixture should exit on SIGTERM, not wait for SIGKILL").toBeLessThan(3000);
    expect((await container.inspect()).State.ExitCode).toBe(0);
  });

  it("rebuilds when a fixture file changes, then reuses the new tag", async () => {
    const tree = await copyOfTree();
    const server = join(tree, "fixtures/service/server.js");
    await writeFile(server, `${await readFile(server, "utf8")}\n// changed by images.test.ts\n`);
    const changed = await ensureImages(docker, { log, projectRoot: tree });
    scratchImages.push(changed.image);
    expect(changed.built).toBe(true);
    expect(changed.image).not.toBe(first.image);
    expect(changed.base).toBe(first.base);
    expect(await ensureImages(docker, { log, projectRoot: tree })).toMatchObject({ image: changed.image, built: false });
    console.log(`rebuild after a fixture change: ${changed.ms.toFixed(0)} ms`);
  });

  it("surfaces a failing build step with its output", async () => {
    const tree = await copyOfTree();
    const dockerfile = join(tree, "images/Dockerfile");
    await writeFile(dockerfile, `${await readFile(dockerfile, "utf8")}\nRUN echo boom-marker && exit 3\n`);
    const failure = await ensureImages(docker, { log, projectRoot: tree }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ImageBuildError);
    expect(String((failure as Error).message)).toMatch(/returned a non-zero code: 3/);
    expect(String((failure as Error).message)).toContain("boom-marker");
  });
});

describe("clean --images", () => {
  it("removes an older unused meshquake image and keeps the current one and the base", async () => {
    const old = `meshquake/mesh:test-old-${process.pid}`;
    const built = await dockerBuild(docker, {
      context: tarArchive([{ path: "Dockerfile", mode: 0o644, content: Buffer.from(`FROM ${first.image}\nLABEL meshquake.test-old=1\n`) }]),
      tag: old,
      dockerfile: "Dockerfile",
      buildargs: {},
      labels: { "meshquake.image": "1" },
      noCache: false,
    });
    expect(built.ok).toBe(true);
    scratchImages.push(old);
    const r = await cleanImages(docker, [first.image]);
    expect(r.errors).toEqual([]);
    expect(r.removed).toContain(old);
    const left = (await docker.listImages({ filters: { label: ["meshquake.image"] } })).flatMap((i) => i.RepoTags ?? []);
    expect(left).toContain(first.image);
    expect(left).toContain(first.base);
    expect(left).not.toContain(old);
  });
});
