// How long a large topology takes to come up and go away, beside the engine's own pace for the
// same number of pods started the plainest way, measured in the same run:
//   - meshquake: the 32-pod topology (gateway ×2 fanning out to 10 services ×3: 32 pods, each an
//     proxy container (namespace, interception and sidecar) and an app) from nothing to a request through the whole mesh,
//     then torn down (containers, network, run directory);
//   - plain: 32 `docker run -d` of the same image one after another (the app alone, nothing
//     waited for), then `docker rm -f` of all of them.
// The meshquake row is repeated for several numbers of containers started at once (the engine
// serialises part of each start; past the knee more at once only queues inside it).
//   npx tsx bench/topology.bench.ts [rounds, default 1] [concurrency list, default 1,2,4,8]
import { execFileSync } from "node:child_process";
import { performance } from "node:perf_hooks";
import { cleanLeftovers } from "../src/runtime/clean.js";
import { benchImage, docker, startBenchMesh } from "./kit/mesh.js";

const ROUNDS = Number(process.argv[2] ?? 1);
const CONCURRENCY = (process.argv[3] ?? "1,2,4,8").split(",").map(Number);
const services = Array.from({ length: 10 }, (_, i) => `s${i}`);
const YAML = `
name: wide
services:
  gateway: { replicas: 2, calls: [${services.join(", ")}] }
${services.map((s) => `  ${s}: { replicas: 3 }`).join("\n")}
load: { target: gateway, rate: 10, duration: 5s }
`;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const image = await benchImage();

for (let round = 1; round <= ROUNDS; round++) {
  const tag = `mq-bench-plain-${process.pid}-${round}`;
  const t2 = performance.now();
  for (let i = 0; i < 32; i++) {
    execFileSync("docker", ["run", "-d", "--name", `${tag}-${i}`, "--label", `meshquake.run-id=${tag}`, image], { stdio: "ignore" });
  }
  const plainUp = performance.now() - t2;
  const t3 = performance.now();
  await cleanLeftovers(docker, tag);
  const plainDown = performance.now() - t3;
  console.log(`round ${round}: 32 pods (64 containers) vs 32 plain containers`);
  console.log(`  plain run -d   ${seconds(plainUp).padStart(7)}   (sequential docker run -d); rm -f of all ${seconds(plainDown)}`);
  for (const podConcurrency of CONCURRENCY) {
    const t0 = performance.now();
    const steps: Record<string, number> = {};
    const mesh = await startBenchMesh("wide", YAML, { podConcurrency, onStep: (name, ms) => (steps[name] = ms) });
    const up = performance.now() - t0;
    const t1 = performance.now();
    await mesh.close();
    const down = performance.now() - t1;
    console.log(
      `  meshquake, ${String(podConcurrency).padStart(2)} pods at once: up ${seconds(up)} (${Object.entries(steps).map(([k, v]) => `${k} ${seconds(v)}`).join(", ")}), ` +
        `down ${seconds(down)}; (up + down) / plain run -d = ${((up + down) / plainUp).toFixed(2)}× (goal ≤ 1.0×)`,
    );
  }
}
