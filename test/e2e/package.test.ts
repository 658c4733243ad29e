// meshquake as a user installs it: `npm pack`, the tarball installed into an empty project, then its
// command, its import and the load generator's threads, all from dist/ without tsx (a devDependency,
// so not installed there). Needs no Docker; npm uses its local cache where it can.
import { execFile, type ExecFileOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript beside the command, without declarations
import { buildState } from "../../bin/build-state.js";
import { labelled, PROJECT_ROOT, testDocker, testImage } from "../integration/docker-env.js";

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(file: string, args: string[], opts: ExecFileOptions = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "utf8", maxBuffer: 32 << 20, timeout: 60_000, ...opts }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const npm = (args: string[], cwd: string) => sh("npm", [...args, "--no-audit", "--no-fund"], { cwd, env: { ...process.env, npm_config_update_notifier: "false" } });

let project = "";
let files: string[] = [];
/** `npx meshquake ...` in the project, with CI's plain output. */
const meshquake = (args: string[]) => sh("npx", ["--no-install", "meshquake", ...args], { cwd: project, env: { ...process.env, CI: "true" } });

beforeAll(async () => {
  if ((buildState as (root: string) => string)(PROJECT_ROOT) !== "current") {
    const built = await npm(["run", "build"], PROJECT_ROOT);
    expect(built.code, built.stderr).toBe(0);
  }
  const dir = await mkdtemp(join(tmpdir(), "mq-package-"));
  // The build is current (above): pack it as it is, as `npm publish` would after `prepare`.
  const packed = await npm(["pack", "--ignore-scripts", "--json", "--pack-destination", dir], PROJECT_ROOT);
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  files = info!.files.map((f) => f.path);
  project = join(dir, "project");
  await mkdir(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "uses-meshquake", private: true, type: "module" }));
  // toxiproxy-node-client too, as a user's suite has it: the package's Toxiproxy API is driven by it below.
  const installed = await npm(["install", "--prefer-offline", join(dir, info!.filename), "toxiproxy-node-client@4.1.0"], project);
  expect(installed.code, installed.stderr).toBe(0);
}, 120_000);

describe("the packed package", () => {
  it("holds the build, its declarations and what runs read at run time, and no sources or tests", () => {
    for (const f of ["dist/cli/main.js", "dist/index.js", "dist/index.d.ts", "dist/load/open-worker.js", "bin/meshquake.js", "images/Dockerfile", "fixtures/service/server.js", "schema/scenario.schema.json", "templates/init/scenario.yaml", "README.md"]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/") || /\.test\.(ts|js)$/.test(f) || f.includes("report/fixtures/"))).toEqual([]);
  });

  it("installed from the tarball, without tsx: `meshquake --help` and `meshquake validate` work", async () => {
    expect(existsSync(join(project, "node_modules/tsx"))).toBe(false);
    const help = await meshquake(["--help"]);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("Exit codes:");
    expect(help.stdout).toContain(join(project, "node_modules/meshquake/docs"));
    const valid = await meshquake(["validate", "node_modules/meshquake/scenarios/demo.yaml"]);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toContain("valid (demo)");
  });

  it('`import("meshquake")` gives the library API', async () => {
    const r = await sh(process.execPath, ["-e", 'import("meshquake").then((m) => console.log(JSON.stringify(Object.keys(m))))'], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expect.arrayContaining(["run", "startMesh", "FaultInputError", "validate", "readScenario", "parseScenario", "readReport", "writeArtefacts", "EXIT"]));
  });

  it("`meshquake init` writes a starter whose schema modeline points into the installed package, and it validates", async () => {
    const init = await meshquake(["init"]);
    expect(init.code, init.stderr).toBe(0);
    const scenario = await readFile(join(project, "meshquake/starter.yaml"), "utf8");
    expect(scenario.split("\n")[0]).toBe("# yaml-language-server: $schema=../node_modules/meshquake/schema/scenario.schema.json");
    expect(existsSync(join(project, "meshquake", "../node_modules/meshquake/schema/scenario.schema.json"))).toBe(true);
    const valid = await meshquake(["validate", "meshquake/starter.yaml"]);
    expect(valid.code, valid.stderr).toBe(0);
  });

  it("the open-loop generator's threads start from dist/ without tsx", async () => {
    const script = `
      import http from "node:http";
      import { runOpenLoad } from "./node_modules/meshquake/dist/load/open-driver.js";
      const server = http.createServer((req, res) => res.end("ok"));
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      const result = await runOpenLoad({
        url: "http://127.0.0.1:" + server.address().port, rate: 50, durationMs: 400, arrivals: "constant", seed: 1,
        requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }],
        maxInFlight: 100, timeoutMs: 5000, recorder: { record() {} },
      });
      server.close();
      console.log(JSON.stringify({ recorded: result.recorded, aborted: result.aborted }));
    `;
    await writeFile(join(project, "open-load.mjs"), script);
    const r = await sh(process.execPath, ["open-load.mjs"], { cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ recorded: 20, aborted: false });
  });

  it("a user's script: startMesh on the demo, an abort through inject and a latency toxic through toxiproxy-node-client, each on and off, then nothing left", async () => {
    const script = `
      import { startMesh } from "meshquake";
      import { Toxiproxy } from "toxiproxy-node-client";
      const get = async (url) => { const t0 = Date.now(); const r = await fetch(url); await r.text(); return { status: r.status, ms: Date.now() - t0 }; };
      const mesh = await startMesh("node_modules/meshquake/scenarios/demo.yaml");
      const seen = { runId: mesh.runId };
      try {
        seen.before = (await get(mesh.ingressUrl)).status;
        const abort = await mesh.inject({ name: "payments-down", kind: "abort", target: "payments", percent: 100, status: 503 });
        seen.aborted = (await get(mesh.ingressUrl)).status;
        await abort.revert();
        seen.reverted = (await get(mesh.ingressUrl)).status;
        const payments = await new Toxiproxy(mesh.toxiproxyUrl).get("payments");
        const toxic = await payments.addToxic({ name: "slow", type: "latency", stream: "downstream", toxicity: 1, attributes: { latency: 300, jitter: 0 } });
        seen.slowMs = (await get(mesh.ingressUrl)).ms;
        await toxic.remove();
        seen.fastMs = (await get(mesh.ingressUrl)).ms;
      } finally {
        await mesh.close();
      }
      console.log(JSON.stringify(seen));
    `;
    await testImage();
    await writeFile(join(project, "held-up.mjs"), script);
    const r = await sh(process.execPath, ["held-up.mjs"], { cwd: project, timeout: 170_000 });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as { runId: string; before: number; aborted: number; reverted: number; slowMs: number; fastMs: number };
    expect(seen).toMatchObject({ before: 200, aborted: 502, reverted: 200 });
    expect(seen.slowMs).toBeGreaterThanOrEqual(300);
    expect(seen.fastMs).toBeLessThan(300);
    expect(await labelled(testDocker(), seen.runId)).toEqual({ containers: 0, networks: 0 });
  }, 180_000);
});
