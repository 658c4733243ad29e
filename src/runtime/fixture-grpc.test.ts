// The fixture service in grpc mode (MQ_PROTOCOL=grpc), run with the host's node on loopback ports
// and called with @grpc/grpc-js as an app would: no Docker involved.
import http2 from "node:http2";
import net from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterEach, describe, expect, it } from "vitest";
import { spawnFixture, type SpawnedFixture } from "./fixture-spawn.js";

const PROTO = fileURLToPath(new URL("../../fixtures/service/meshquake.proto", import.meta.url));

interface Hop {
  service: string;
  code: number;
  servedBy: string;
  error: string;
}
interface CallReply {
  service: string;
  replica: number;
  version: string;
  calls: Hop[];
  seq: number;
}
type Unary = (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, reply?: CallReply) => void) => grpc.ClientUnaryCall;
type FixtureClient = grpc.Client & {
  Call: Unary;
  Stream: (req: object, md?: grpc.Metadata) => grpc.ClientReadableStream<CallReply>;
};

const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: String, defaults: true });
const Fixture = (grpc.loadPackageDefinition(definition).meshquake as grpc.GrpcObject).Fixture as grpc.ServiceClientConstructor;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFixture(env: Record<string, string>): Promise<SpawnedFixture> {
  const fixture = await spawnFixture({ MQ_PROTOCOL: "grpc", ...env });
  cleanups.push(fixture.kill);
  return fixture;
}

function client(port: number): FixtureClient {
  const c = new Fixture(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { "grpc.enable_retries": 0 }) as unknown as FixtureClient;
  cleanups.push(() => c.close());
  return c;
}

function metadata(headers: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return md;
}

type Outcome = { code: 0; reply: CallReply; servedBy: string } | { code: number; details: string; servedBy: string };

function call(c: FixtureClient, headers: Record<string, string> = {}, payload = "p"): Promise<Outcome> {
  return new Promise((resolve) => {
    let servedBy = "";
    const unary = c.Call({ payload }, metadata(headers), (err, reply) => {
      const fromError = err?.metadata.get("x-mq-served-by")[0];
      if (typeof fromError === "string") servedBy ||= fromError;
      resolve(err ? { code: err.code, details: err.details, servedBy } : { code: 0, reply: reply!, servedBy });
    });
    unary.on("metadata", (md) => (servedBy = String(md.get("x-mq-served-by")[0] ?? "")));
  });
}

/** A raw HTTP/1.0 GET, as the harness's readiness probe sends it. */
function http10(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(`GET ${path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n`));
    let out = "";
    socket.on("data", (chunk: Buffer) => (out += chunk.toString()));
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
}

function h2get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", reject);
    const req = session.request({ ":path": path, ":method": "GET" });
    let status = 0;
    let body = "";
    req.on("response", (h) => (status = Number(h[":status"])));
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      session.close();
      resolve({ status, body });
    });
    req.on("error", reject);
  });
}

describe("fixture service, grpc mode", () => {
  it("answers Call through a chain; the next hop counts failFirst by the forwarded request id", async () => {
    const b = await startFixture({ MQ_SERVICE: "payments", MQ_REPLICA: "2", MQ_VERSION: "v2" });
    const a = await startFixture({ MQ_SERVICE: "checkout", MQ_CALLS: `127.0.0.1:${b.port}`, MQ_FORWARD: "X-Tenant" });
    expect(a.output()).toMatch(new RegExp(`^fixture checkout-0 listening on 127\\.0\\.0\\.1:${a.port} protocol=grpc latency=0\\.\\.0ms errorRate=0 calls=127\\.0\\.0\\.1:${b.port}\\n$`));
    const c = client(a.port);
    const out = await call(c, { "x-request-id": "req-1", "x-mq-trace": "abc", "x-tenant": "t1", "x-other": "dropped" });
    expect(out).toEqual({
      code: 0,
      servedBy: "checkout-0",
      reply: { service: "checkout", replica: 0, version: "", seq: 0, calls: [{ service: "127.0.0.1", code: 0, servedBy: "payments-2", error: "" }] },
    });
    // failFirst counts by the forwarded x-request-id (else x-mq-req) at the next hop.
    const counting = await startFixture({ MQ_SERVICE: "ledger", MQ_FAIL_FIRST: "1" });
    const front = await startFixture({ MQ_SERVICE: "front", MQ_CALLS: `127.0.0.1:${counting.port}` });
    const fc = client(front.port);
    expect(await call(fc, { "x-request-id": "same" })).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await call(fc, { "x-request-id": "same" })).toMatchObject({ code: 0 });
    expect(await call(fc, { "x-mq-req": "other" })).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(await call(fc, { "x-mq-req": "other" })).toMatchObject({ code: 0 });
  });

  it("passes x-request-id, x-mq-* and MQ_FORWARD's headers on as metadata, with the payload", async () => {
    const seen: { metadata: Record<string, unknown>; payload: string }[] = [];
    const server = new grpc.Server();
    server.addService(Fixture.service, {
      Call: (c: grpc.ServerUnaryCall<{ payload: string }, CallReply>, cb: grpc.sendUnaryData<object>) => {
        seen.push({ metadata: c.metadata.getMap(), payload: c.request.payload });
        cb(null, { service: "fake", replica: 7 });
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    cleanups.push(() => void server.forceShutdown());
    const a = await startFixture({ MQ_SERVICE: "checkout", MQ_CALLS: `127.0.0.1:${port}`, MQ_FORWARD: "X-Tenant" });
    const out = await call(client(a.port), { "x-request-id": "req-1", "x-mq-trace": "abc", "x-tenant": "t1", "x-other": "dropped" }, "hello");
    expect(out).toMatchObject({ code: 0, reply: { calls: [{ service: "127.0.0.1", code: 0, servedBy: "fake-7", error: "" }] } });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.payload).toBe("hello");
    expect(seen[0]?.metadata).toMatchObject({ "x-request-id": "req-1", "x-mq-trace": "abc", "x-tenant": "t1" });
    expect(seen[0]?.metadata).not.toHaveProperty("x-other");
  });

  it("answers INTERNAL on every call with errorRate 1, or MQ_GRPC_ERROR_STATUS", async () => {
    const f = await startFixture({ MQ_SERVICE: "payments", MQ_ERROR_RATE: "1" });
    const c = client(f.port);
    for (let i = 0; i < 3; i++) {
      expect(await call(c)).toEqual({ code: grpc.status.INTERNAL, details: "injected by errorRate", servedBy: "payments-0" });
    }
    const g = await startFixture({ MQ_ERROR_RATE: "1", MQ_GRPC_ERROR_STATUS: "8" });
    expect(await call(client(g.port))).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
  });

  it("answers UNAVAILABLE to the first failFirst tries of each request id", async () => {
    const f = await startFixture({ MQ_SERVICE: "payments", MQ_FAIL_FIRST: "2" });
    const c = client(f.port);
    const codes = async (headers: Record<string, string>, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await call(c, headers)).code);
      return out;
    };
    expect(await codes({ "x-request-id": "a" }, 4)).toEqual([14, 14, 0, 0]);
    expect(await call(c, { "x-request-id": "b" })).toMatchObject({ details: "failFirst: try 1 of request b fails (first 2)" });
    expect(await codes({}, 2)).toEqual([0, 0]);
  });

  it("answers a failed downstream call with the callee's status and stops calling", async () => {
    const failing = await startFixture({ MQ_SERVICE: "payments", MQ_ERROR_RATE: "1", MQ_GRPC_ERROR_STATUS: "14" });
    const never = await startFixture({ MQ_SERVICE: "ledger", MQ_FAIL_FIRST: "1" });
    const a = await startFixture({ MQ_SERVICE: "checkout", MQ_CALLS: `127.0.0.1:${failing.port},127.0.0.1:${never.port}` });
    const c = client(a.port);
    expect(await call(c, { "x-request-id": "r" })).toEqual({
      code: grpc.status.UNAVAILABLE,
      details: "call to 127.0.0.1 failed: injected by errorRate",
      servedBy: "checkout-0",
    });
    // ledger was never called: its first try of "r" is still to come, and fails.
    const direct = await call(client(never.port), { "x-request-id": "r" });
    expect(direct.code).toBe(grpc.status.UNAVAILABLE);
  });

  it("streams count messages interval_ms apart, the first with the calls", async () => {
    const b = await startFixture({ MQ_SERVICE: "payments" });
    const a = await startFixture({ MQ_SERVICE: "checkout", MQ_CALLS: `127.0.0.1:${b.port}` });
    const c = client(a.port);
    const started = performance.now();
    const replies = await new Promise<CallReply[]>((resolve, reject) => {
      const got: CallReply[] = [];
      const s = c.Stream({ count: 3, intervalMs: 20, payload: "x" });
      s.on("data", (r: CallReply) => got.push(r));
      s.on("end", () => resolve(got));
      s.on("error", reject);
    });
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
    expect(replies.map((r) => r.seq)).toEqual([0, 1, 2]);
    expect(replies[0]?.calls).toEqual([{ service: "127.0.0.1", code: 0, servedBy: "payments-0", error: "" }]);
    expect(replies[1]?.calls).toEqual([]);
  });

  it("answers UNIMPLEMENTED to an unknown method, and GET /healthz over HTTP/1.0 and h2", async () => {
    const f = await startFixture({ MQ_SERVICE: "payments" });
    const c = client(f.port);
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      c.makeUnaryRequest("/meshquake.Fixture/Nope", (x: Buffer) => x, (x: Buffer) => x, Buffer.alloc(0), (e) => resolve(e)),
    );
    expect(err?.code).toBe(grpc.status.UNIMPLEMENTED);
    const h1 = await http10(f.port, "/healthz");
    expect(h1).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(h1.endsWith('\r\n\r\n{"ok":true}')).toBe(true);
    expect(await h2get(f.port, "/healthz")).toEqual({ status: 200, body: '{"ok":true}' });
    expect((await h2get(f.port, "/")).status).toBe(415);
    expect(await http10(f.port, "/")).toMatch(/^HTTP\/1\.1 415 /);
  });

  it("exits promptly on SIGTERM with a client's connection open", async () => {
    const f = await startFixture({});
    expect((await call(client(f.port))).code).toBe(0);
    const start = performance.now();
    const exited = new Promise<number | null>((resolve) => f.process.once("exit", resolve));
    f.process.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("fixture service, http2 mode", () => {
  it("gives the HTTP answers over h2c and HTTP/1.x on the one port", async () => {
    const f = await startFixture({ MQ_PROTOCOL: "http2", MQ_SERVICE: "payments", MQ_REPLICA: "1" });
    expect(f.output()).toContain(" protocol=http2 latency=");
    expect(await h2get(f.port, "/")).toEqual({ status: 200, body: JSON.stringify({ service: "payments", replica: 1, calls: [] }) });
    expect(await h2get(f.port, "/healthz")).toEqual({ status: 200, body: '{"ok":true}' });
    const res = await fetch(`http://127.0.0.1:${f.port}/`);
    expect(await res.json()).toEqual({ service: "payments", replica: 1, calls: [] });
    expect(res.headers.get("x-mq-served-by")).toBe("payments-1");
    expect(await http10(f.port, "/healthz")).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});
