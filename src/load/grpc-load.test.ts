// The open generator sending gRPC calls to a tiny h2c gRPC server on 127.0.0.1 (node:http2): the
// real worker thread, its HTTP/2 session pool and the status each call ends with. Counts and
// sessions only: nothing here depends on timing beyond generous bounds.
import { mkdtempSync, writeFileSync } from "node:fs";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientSample } from "../observe/client-recorder.js";
import type { GrpcCall, RequestTemplate } from "../scenario/types.js";
import { encodeCall, GrpcCallError } from "./grpc-proto.js";
import { prepareLoad } from "./load-driver.js";
import { runOpenLoad, type OpenLoadOptions } from "./open-driver.js";

const PROTO = join(mkdtempSync(join(tmpdir(), "mq-grpc-")), "fixture.proto");
writeFileSync(
  PROTO,
  `syntax = "proto3";
package meshquake;
service Fixture {
  rpc Call (CallRequest) returns (CallReply);
  rpc Stream (CallRequest) returns (stream CallReply);
}
message CallRequest { string payload = 1; int32 repeat_count = 2; }
message CallReply { string payload = 1; }
`,
);

const CALL: GrpcCall = { method: "meshquake.Fixture/Call", message: { payload: "hi" }, metadata: { "x-tenant": "a" }, protoFile: PROTO };
const TEMPLATE: RequestTemplate[] = [{ method: "POST", path: "/meshquake.Fixture/Call", headers: {}, body: null, weight: 1 }];

interface Seen {
  id: string;
  path: string;
  tenant: string | undefined;
  contentType: string | undefined;
  te: string | undefined;
  body: Buffer;
}

const servers: http2.Http2Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((resolve) => s.close(resolve));
});

/** A gRPC server: seq % 4 === 3 is answered trailers-only UNAVAILABLE, the rest OK with one message (after `delayMs`); "x-slow" never answers. */
async function serve(delayMs = 0): Promise<{ url: string; seen: Seen[]; cancelled: () => number }> {
  const seen: Seen[] = [];
  let cancelled = 0;
  const server = http2.createServer();
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("error", () => {});
    stream.on("close", () => {
      if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) cancelled++;
    });
    stream.on("end", () => {
      const id = String(headers["x-request-id"] ?? "");
      seen.push({ id, path: String(headers[":path"]), tenant: headers["x-tenant"] as string | undefined, contentType: headers["content-type"], te: headers.te as string | undefined, body: Buffer.concat(chunks) });
      if (headers["x-slow"]) return;
      const seq = id.includes("-warm-") ? 0 : parseInt(id.slice(id.lastIndexOf("-") + 1), 36);
      const answer = (): void => {
        if (stream.destroyed) return;
        if (seq % 4 === 3) {
          stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "14", "grpc-message": "down" }, { endStream: true });
          return;
        }
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(Buffer.from([0, 0, 0, 0, 4, 0x0a, 0x02, 0x6f, 0x6b]));
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, cancelled: () => cancelled };
}

async function load(url: string, over: Partial<OpenLoadOptions> = {}): Promise<{ samples: ClientSample[]; result: Awaited<ReturnType<typeof runOpenLoad>> }> {
  const samples: ClientSample[] = [];
  const result = await runOpenLoad({
    url,
    rate: 200,
    durationMs: 1000,
    requests: TEMPLATE,
    grpc: CALL,
    arrivals: "constant",
    seed: 1,
    maxInFlight: 1000,
    timeoutMs: 5000,
    requestIdPrefix: "g",
    recorder: { record: (s) => samples.push(s) },
    ...over,
  });
  return { samples, result };
}

function countBy(samples: ClientSample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) out[String(s.status)] = (out[String(s.status)] ?? 0) + 1;
  return out;
}

describe("gRPC load (open generator over HTTP/2)", () => {
  it("counts every call by its gRPC status name, sends the framed message with its metadata and its own x-request-id, on one session", async () => {
    const server = await serve();
    const { samples, result } = await load(server.url);
    expect(result).toMatchObject({ model: "open", recorded: 200, aborted: false, unfinished: 0 });
    // A few calls in flight at a time: one session (two only if the machine stalled 100 calls' worth).
    expect(result.connections).toBeLessThanOrEqual(2);
    const seqOf = (s: ClientSample) => parseInt(s.id!.slice(2), 36);
    expect(samples.filter((s) => s.status === "UNAVAILABLE").every((s) => seqOf(s) % 4 === 3)).toBe(true);
    expect(countBy(samples)).toEqual({ OK: 150, UNAVAILABLE: 50 });
    expect(samples.every((s) => s.path === "/meshquake.Fixture/Call" && s.sentUs !== undefined)).toBe(true);

    const recorded = server.seen.filter((s) => !s.id.includes("-warm-"));
    // Every recorded call arrived with its own id (a late machine may also send one past the end, unrecorded).
    const arrived = new Set(recorded.map((s) => s.id));
    expect(samples.filter((s) => !arrived.has(s.id!))).toEqual([]);
    expect(arrived.size).toBe(recorded.length);
    expect(server.seen.length).toBeGreaterThan(recorded.length); // the warm-up sent the real call too
    const first = recorded[0]!;
    expect(first).toMatchObject({ path: "/meshquake.Fixture/Call", tenant: "a", contentType: "application/grpc", te: "trailers" });
    // flag 0, length 4, then field 1 (payload) = "hi"
    expect([...first.body]).toEqual([0, 0, 0, 0, 4, 0x0a, 0x02, 0x68, 0x69]);
  });

  it("opens another session only when every open one has 100 calls in flight", async () => {
    const server = await serve(400);
    const { samples, result } = await load(server.url, { rate: 600, durationMs: 600 });
    // ~240 calls in flight at once at the peak: at least 3 sessions, and never one per call.
    expect(result.connections).toBeGreaterThanOrEqual(2);
    expect(result.connections).toBeLessThanOrEqual(6);
    expect(countBy(samples)).toEqual({ OK: 270, UNAVAILABLE: 90 });
  });

  it("counts calls the in-flight cap held back as notSent", async () => {
    const server = await serve(200);
    const { samples, result } = await load(server.url, { rate: 200, durationMs: 500, maxInFlight: 2 });
    const counts = countBy(samples);
    expect(result.recorded).toBe(100);
    expect(counts.notSent).toBeGreaterThan(50);
    expect((counts.OK ?? 0) + (counts.UNAVAILABLE ?? 0) + counts.notSent!).toBe(100);
  });

  it("a call past its deadline is a timeout, and its stream is cancelled (RST_STREAM CANCEL)", async () => {
    const server = await serve();
    const { samples } = await load(server.url, { rate: 50, durationMs: 300, timeoutMs: 200, grpc: { ...CALL, metadata: { "x-slow": "1" } } });
    expect(countBy(samples)).toEqual({ timeout: 15 });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.cancelled()).toBeGreaterThanOrEqual(15);
  });

  it("a server that is not there: every call is an error, and the generator still ends", async () => {
    const server = await serve();
    const port = new URL(server.url).port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const { samples, result } = await load(`http://127.0.0.1:${port}`, { rate: 50, durationMs: 200 });
    expect(countBy(samples)).toEqual({ error: 10 });
    expect(result.connections).toBeGreaterThanOrEqual(1);
  });

  it("prepareLoad runs a ResolvedLoad with protocol grpc through the same generator", async () => {
    const server = await serve();
    const samples: ClientSample[] = [];
    const prepared = await prepareLoad({
      url: server.url,
      seed: 1,
      recorder: { record: (s) => samples.push(s) },
      load: {
        target: "frontend",
        model: "open",
        rate: 100,
        arrivals: "poisson",
        maxInFlight: 100,
        connections: 100,
        timeoutMs: 2000,
        maxLagMs: 10,
        durationMs: 400,
        protocol: "grpc",
        requests: TEMPLATE,
        grpc: CALL,
      },
    });
    const result = await prepared.start();
    expect(result.recorded).toBe(samples.length);
    expect(samples.every((s) => s.status === "OK" || s.status === "UNAVAILABLE")).toBe(true);
  });
});

describe("encodeCall: the call against its proto", () => {
  it("encodes and frames the message once (snake_case or camelCase field names)", () => {
    const call = encodeCall({ ...CALL, message: { payload: "hi", repeat_count: 1 } });
    expect(call.path).toBe("/meshquake.Fixture/Call");
    expect([...call.frame]).toEqual([0, 0, 0, 0, 6, 0x0a, 0x02, 0x68, 0x69, 0x10, 0x01]);
    expect([...encodeCall({ ...CALL, message: { repeatCount: 1 } }).frame]).toEqual([0, 0, 0, 0, 2, 0x10, 0x01]);
  });

  it("names the services and methods the proto has when the method is not there", () => {
    expect(() => encodeCall({ ...CALL, method: "meshquake.Fixture/Nope" })).toThrow(
      new GrpcCallError(`load.method meshquake.Fixture/Nope is not in ${PROTO}: service meshquake.Fixture has no method Nope; it has meshquake.Fixture (Call, Stream)`),
    );
    expect(() => encodeCall({ ...CALL, method: "other.Svc/Call" })).toThrow(/there is no service other\.Svc; it has meshquake\.Fixture \(Call, Stream\)/);
  });

  it("refuses message fields the request type does not have, and a missing proto", () => {
    expect(() => encodeCall({ ...CALL, message: { payload: "x", colour: "red" } })).toThrow(
      "load.message has a field colour that CallRequest, the request type of meshquake.Fixture/Call, does not: it has payload, repeatCount",
    );
    expect(() => encodeCall({ ...CALL, protoFile: "/nonexistent/x.proto" })).toThrow("the gRPC load's proto /nonexistent/x.proto does not exist");
  });
});
