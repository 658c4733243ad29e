// One open-loop load as a process of its own, so a bench can run it inside a pod's network
// namespace (see inNetns): prints one JSON line with what it measured.
//   tsx bench/kit/open-probe.ts <url> <rate> <seconds>
import { runOpenLoad } from "../../src/load/open-driver.js";
import { benchLoad, summarize, type ProbeSample } from "./open-summary.js";

const [url, rate, seconds] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 5)];
const samples: ProbeSample[] = [];
await runOpenLoad(benchLoad(url, rate, seconds, samples));
console.log(JSON.stringify(summarize(rate, samples)));
