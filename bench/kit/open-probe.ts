// One open-loop load as a process of its own, so a bench can run it inside a pod's network
// namespace (see inNetns): prints one JSON line with what it measured.
//   tsx bench/kit/open-probe.ts <url> <rate> <seconds>
import { runOpenLoad } from "../../src/load/open-driver.js";
import { summarize, type ProbeSample } from "./open-summary.js";

const [url, rate, seconds] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 5)];
const samples: ProbeSample[] = [];
await runOpenLoad({
  url,
  rate,
  durationMs: seconds * 1000,
  requests: [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }],
  arrivals: "constant",
  seed: 1,
  maxInFlight: 10_000,
  timeoutMs: 5000,
  recorder: { record: (s) => samples.push(s) },
});
console.log(JSON.stringify(summarize(rate, samples)));
