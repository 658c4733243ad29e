// What starting the CLI costs, in CPU (user + system, every thread) and wall time, for the two
// commands people run most often and expect to be instant: `--help` and `validate`. Three ways to
// start, measured in one run, interleaved, so the ratios compare like with like:
//   - sources: the TypeScript through tsx (a checkout whose dist/ is stale or missing);
//   - dist, eager: the build, with the run pipeline, the Docker client and the reporters loaded
//     before main() (what every command paid while main.ts imported them at the top);
//   - dist: the build as bin/meshquake.js starts it (each command loads what it needs).
//   npx tsx bench/cli-start.bench.ts [runs per variant, default 10]
// Builds dist/ first when it is not current. Each child reports its own process.cpuUsage() at exit.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error: plain JavaScript beside the command, without declarations
import { buildState } from "../bin/build-state.js";

const ROOT = join(import.meta.dirname, "..");
const RUNS = Number(process.argv[2] ?? 10);
const COMMANDS: Record<string, string[]> = {
  "--help": ["--help"],
  "validate demo.yaml": ["validate", "scenarios/demo.yaml"],
};

/** Each variant: node's arguments before the command's own. */
const run = (prelude: string) =>
  ["--input-type=module", "-e", `${prelude}\nprocess.exitCode = await main(process.argv.slice(1));`];
const VARIANTS: Record<string, string[]> = {
  sources: run(`import { register } from "tsx/esm/api"; register();\nconst { main } = await import("./src/cli/main.ts");`),
  "dist, eager": run(
    `await Promise.all(["./dist/run/engine.js", "./dist/run/repeat.js", "./dist/report/reporters.js", "./dist/report/json.js", "./dist/runtime/clean.js", "./dist/cli/validate.js"].map((m) => import(m)));\n` +
      `const { main } = await import("./dist/cli/main.js");`,
  ),
  dist: ["bin/meshquake.js"],
};

const CPU_HOOK = `data:text/javascript,${encodeURIComponent(
  `import { writeFileSync } from "node:fs"; process.on("exit", () => { const u = process.cpuUsage(); writeFileSync(process.env.MQ_CPU_FILE, JSON.stringify(u)); });`,
)}`;

interface Sample {
  cpuMs: number;
  wallMs: number;
}

function once(variant: string[], args: string[], cpuFile: string): Sample {
  const started = performance.now();
  const r = spawnSync(process.execPath, ["--import", CPU_HOOK, ...variant, ...(variant[0] === "bin/meshquake.js" ? [] : ["--"]), ...args], {
    cwd: ROOT,
    env: { ...process.env, MQ_CPU_FILE: cpuFile, CI: "true" },
    encoding: "utf8",
  });
  const wallMs = performance.now() - started;
  if (r.status !== 0) throw new Error(`${variant.join(" ")} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  const { user, system } = JSON.parse(readFileSync(cpuFile, "utf8")) as { user: number; system: number };
  return { cpuMs: (user + system) / 1000, wallMs };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

if ((buildState as (root: string) => string)(ROOT) !== "current") {
  console.log("dist/ is not current: building it (npm run build)");
  const built = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (built.status !== 0) process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), "mq-cli-start-"));
const cpuFile = join(dir, "cpu.json");
try {
  console.log(`CLI start, ${RUNS} runs per row (interleaved, after one warm-up each), median; ratio = row / dist`);
  console.log(`${"command".padEnd(20)} ${"start".padEnd(12)} ${"CPU ms".padStart(8)} ${"wall ms".padStart(8)} ${"CPU ratio".padStart(10)}`);
  for (const [name, args] of Object.entries(COMMANDS)) {
    const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
    for (const variant of Object.values(VARIANTS)) once(variant, args, cpuFile); // warm the file cache
    for (let i = 0; i < RUNS; i++) for (const [v, variant] of Object.entries(VARIANTS)) samples[v]!.push(once(variant, args, cpuFile));
    const base = median(samples.dist!.map((s) => s.cpuMs));
    for (const [v, s] of Object.entries(samples)) {
      const cpu = median(s.map((x) => x.cpuMs));
      const wall = median(s.map((x) => x.wallMs));
      console.log(`${name.padEnd(20)} ${v.padEnd(12)} ${cpu.toFixed(0).padStart(8)} ${wall.toFixed(0).padStart(8)} ${`${(cpu / base).toFixed(2)}x`.padStart(10)}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
