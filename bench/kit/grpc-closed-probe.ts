// gRPC's "one connection" (what wrk -t1 -c1 is for HTTP/1.1, which wrk cannot speak over h2): one
// HTTP/2 connection (h2c, prior knowledge), one unary call at a time, each sent as soon as the last
// one's status came, for `seconds`. Run as a process of its own so a bench can run it inside a
// pod's network namespace (see inNetns); prints one JSON line (ClosedSummary).
//   tsx bench/kit/grpc-closed-probe.ts <url> <seconds>
// The call is the fixture's (meshquake.Fixture/Call), encoded and framed as the open generator
// does (grpc-proto.ts); a call counts as an error unless it ends with grpc-status 0.
import { connect, constants, type ClientHttp2Session } from "node:http2";
import { encodeCall } from "../../src/load/grpc-proto.js";
import { FIXTURE_CALL, quantile } from "./open-summary.js";

export interface ClosedSummary {
  calls: number;
  errors: number;
  rps: number;
  p50Us: number;
  p99Us: number;
}

/** Unrecorded calls before the measured ones: the connection, the JIT and the sidecar's app connection warm. */
const WARM_UP_CALLS = 500;

const [url, seconds] = [process.argv[2]!, Number(process.argv[3] ?? 5)];
const call = encodeCall(FIXTURE_CALL);
const headers = {
  [constants.HTTP2_HEADER_METHOD]: "POST",
  [constants.HTTP2_HEADER_PATH]: call.path,
  [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
  [constants.HTTP2_HEADER_TE]: "trailers",
};

const session: ClientHttp2Session = connect(new URL(url).origin);
await new Promise<void>((resolve, reject) => {
  session.once("connect", () => resolve());
  session.once("error", reject);
});

/** One call; resolves to whether it ended with grpc-status 0. */
function once(): Promise<boolean> {
  return new Promise((resolve) => {
    const stream = session.request(headers);
    let status: string | undefined;
    stream.on("response", (h) => (status ??= h["grpc-status"] as string | undefined));
    stream.on("trailers", (t) => (status = t["grpc-status"] as string | undefined));
    stream.on("error", () => {});
    stream.resume();
    stream.on("close", () => resolve(status === "0"));
    stream.end(call.frame);
  });
}

for (let i = 0; i < WARM_UP_CALLS; i++) await once();
const latencies: number[] = [];
let errors = 0;
const start = process.hrtime.bigint();
const end = start + BigInt(Math.round(seconds * 1e9));
for (let now = start; now < end; ) {
  const ok = await once();
  const done = process.hrtime.bigint();
  latencies.push(Number(done - now) / 1000);
  if (!ok) errors++;
  now = done;
}
session.close();
latencies.sort((a, b) => a - b);
const summary: ClosedSummary = {
  calls: latencies.length,
  errors,
  rps: latencies.length / seconds,
  p50Us: quantile(latencies, 0.5),
  p99Us: quantile(latencies, 0.99),
};
console.log(JSON.stringify(summary));
