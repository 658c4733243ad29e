// One open-loop load as a process of its own, so a bench can run it inside a pod's network
// namespace (see inNetns): prints one JSON line with what it measured.
//   tsx bench/kit/open-probe.ts <url> <rate> <seconds> [grpc]
// grpc: the fixture's unary call (meshquake.Fixture/Call) over HTTP/2 (h2c), as a gRPC load sends it.
import { runOpenLoad } from "../../src/load/open-driver.js";
import { benchLoad, FIXTURE_CALL, summarize, type ProbeSample } from "./open-summary.js";

const [url, rate, seconds] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4] ?? 5)];
const grpc = process.argv[5] === "grpc" ? FIXTURE_CALL : null;
const samples: ProbeSample[] = [];
await runOpenLoad(benchLoad(url, rate, seconds, samples, grpc));
console.log(JSON.stringify(summarize(rate, samples)));
