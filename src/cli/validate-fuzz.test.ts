// The validate fuzz (src/cli/validate-fuzz.ts): FUZZ_CASES mutated scenarios from a fixed seed,
// each through the function `meshquake validate` runs, in a worker thread so that a case that
// hangs is caught (the worker is stopped and the run goes on after it) instead of hanging CI.
// A failing case is printed with the seed, its number, the mutations and the smallest input
// that still fails. MQ_FUZZ_SEED and MQ_FUZZ_CASES replay or widen a run.
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { CASE_LIMIT_MS, fuzzCase, minimize, seedFiles, type Outcome } from "./validate-fuzz.js";

const SEED = Number(process.env.MQ_FUZZ_SEED ?? 20_250_611);
const CASES = Number(process.env.MQ_FUZZ_CASES ?? 10_000);
/** No word from the worker for this long while a case runs: that case hangs. */
const HANG_MS = CASE_LIMIT_MS + 8000;

/** Runs cases from..to in a worker; resolves with every outcome, a hung case as a failure. */
function runCases(from: number, to: number): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const start = (first: number): Promise<void> =>
    new Promise((resolve, reject) => {
      if (first >= to) return resolve();
      const code = `
        const { workerData } = require("node:worker_threads");
        (async () => {
          const { register } = await import("tsx/esm/api");
          register();
          (await import(workerData.module)).runWorker();
        })();`;
      const module = new URL("./validate-fuzz.ts", import.meta.url).href;
      const worker = new Worker(code, { eval: true, workerData: { module, seed: SEED, from: first, to } });
      let running: number | null = null;
      let watchdog: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          if (running === null) return arm();
          const hung = running;
          outcomes.push({ index: hung, ms: HANG_MS, exit: null, failure: `hang: no answer after ${HANG_MS} ms` });
          void worker.terminate().then(() => start(hung + 1).then(resolve, reject));
        }, HANG_MS);
      };
      arm();
      worker.on("message", (m: { type: string; index?: number; outcome?: Outcome }) => {
        arm();
        if (m.type === "start") running = m.index!;
        else if (m.type === "done") {
          outcomes.push(m.outcome!);
          running = null;
        } else if (m.type === "end") {
          clearTimeout(watchdog);
          void worker.terminate().then(() => resolve());
        }
      });
      worker.on("error", (e) => {
        clearTimeout(watchdog);
        reject(e);
      });
    });
  return start(from).then(() => outcomes);
}

describe(`validate fuzz: ${CASES} mutated scenarios, seed ${SEED}`, () => {
  it("every case ends in exit 0 or 2 within 2 s, every exit-2 line located, never a crash or a hang", { timeout: 300_000 }, async () => {
    const started = performance.now();
    const outcomes = await runCases(0, CASES);
    const seconds = (performance.now() - started) / 1000;
    const failures = outcomes.filter((o) => o.failure !== null);
    const slowest = outcomes.reduce((a, b) => (b.ms > a.ms ? b : a));
    const seeds = seedFiles();
    const slowCase = fuzzCase(SEED, slowest.index, seeds);
    console.log(
      `validate fuzz: ${outcomes.length} cases in ${seconds.toFixed(1)} s (seed ${SEED}); exit 0: ${outcomes.filter((o) => o.exit === 0).length}, ` +
        `exit 2: ${outcomes.filter((o) => o.exit === 2).length}; failures: ${failures.length}; slowest: case ${slowest.index} ` +
        `(${slowCase.file}, ${slowCase.ops.join(", ")}) ${Math.round(slowest.ms)} ms`,
    );
    const reports = failures.slice(0, 5).map((o) => {
      const c = fuzzCase(SEED, o.index, seeds);
      const smallest = o.failure!.startsWith("hang") ? c.text : minimize(c, o.failure!);
      return (
        `case ${o.index} of seed ${SEED} (replay: MQ_FUZZ_SEED=${SEED}, fuzzCase(${SEED}, ${o.index})): ${c.file} after ${c.ops.join(", ")}\n` +
        `  ${o.failure}\n  smallest input: ${JSON.stringify(smallest)}` +
        (Object.keys(c.imports).length ? `\n  mutated imports: ${JSON.stringify(c.imports).slice(0, 2000)}` : "")
      );
    });
    expect(reports, reports.join("\n\n")).toEqual([]);
    expect(outcomes).toHaveLength(CASES);
  });
});
