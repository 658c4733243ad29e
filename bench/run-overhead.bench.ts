// What a run costs beyond its load: the built-in demo (30 s of load) through the CLI, images
// cached, wall time from the command's start to its exit minus the load's duration, with the
// report's own timings (set-up steps, load, teardown) beside it.
//   npx tsx bench/run-overhead.bench.ts [runs, default 2]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const RUNS = Number(process.argv[2] ?? 2);
const ROOT = join(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "mq-bench-overhead-"));
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
try {
  console.log("run overhead: node bin/meshquake.js run scenarios/demo.yaml (30 s of load), images cached");
  for (let i = 1; i <= RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, "bin/meshquake.js"), "run", join(ROOT, "scenarios/demo.yaml"), "--out", out, "--quiet"], {
      encoding: "utf8",
    });
    const wall = performance.now() - t0;
    const report = JSON.parse(readFileSync(join(out, "demo", "report.json"), "utf8")) as {
      timings: { setupMs: number; runMs: number; teardownMs: number; steps: Record<string, number> };
      load?: { durationMs?: number };
    };
    const loadMs = 30_000;
    const steps = Object.entries(report.timings.steps)
      .filter(([k]) => k.startsWith("setup."))
      .map(([k, v]) => `${k.slice(6)} ${s(v)}`)
      .join(", ");
    console.log(
      `  run ${i}: exit ${r.status}, wall ${s(wall)}, overhead ${s(wall - loadMs)} (goal ≤ 8 s): set-up ${s(report.timings.setupMs)} (${steps}), ` +
        `run ${s(report.timings.runMs)}, teardown ${s(report.timings.teardownMs)}, the rest (start, images, reports, exit) ${s(wall - report.timings.setupMs - report.timings.runMs - report.timings.teardownMs)}`,
    );
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
