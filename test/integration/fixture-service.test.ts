// The fixture service run with the host's node on loopback ports: no Docker involved.
// The two fake callees listen on distinct loopback addresses (127.0.0.2, 127.0.0.3) so that
// MQ_CALLS entries, which name a host, name two different services.
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FIXTURE_SERVER as SERVER, spawnFixture } from "../../src/runtime/fixture-spawn.js";

interface RunningFixture {
  url: string;
  process: ChildProcess;
  output: () => string;
}

interface FakeCallee {
  host: string;
  port: number;
  requests: http.IncomingHttpHeaders[];
  connections: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startFixture(env: Record<string, string>): Promise<RunningFixture> {
  const fixture = await spawnFixture(env);
  cleanups.push(fixture.kill);
  return { url: `http://127.0.0.1:${fixture.port}`, process: fixture.process, output: fixture.output };
}

async function startCallee(
  host: string,
  answer: (req: http.IncomingMessage) => { status: number; body: unknown },
): Promise<FakeCallee> {
  const callee: FakeCallee = { host, port: 0, requests: [], connections: 0 };
  const server = http.createServer((req, res) => {
    callee.requests.push(req.headers);
    const { status, body } = answer(req);
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  server.on("connection", () => callee.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  callee.port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return callee;
}

async function unusedPort(host: string): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, host, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe("fixture service", () => {
  it("answers 200 JSON naming its service and replica, and /healthz", async () => {
    const fixture = await startFixture({ MQ_SERVICE: "payments", MQ_REPLICA: "2" });
    const res = await get(`${fixture.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("x-mq-served-by")).toBe("payments-2");
    expect(res.body).toEqual({ service: "payments", replica: 2, calls: [] });
    expect(await get(`${fixture.url}/healthz`)).toMatchObject({ status: 200, body: { ok: true } });
    expect((await get(`${fixture.url}/any/path?x=1`)).status).toBe(200);
    expect(fixture.output().trim().split("\n")).toHaveLength(1);
  });

  it("calls its callees in order over keep-alive, forwarding x-request-id and x-mq-* headers", async () => {
    const ok = (service: string, replica: number) => () => ({ status: 200, body: { service, replica, calls: [] } });
    const first = await startCallee("127.0.0.2", ok("payments", 1));
    const second = await startCallee("127.0.0.3", ok("ledger", 0));
    const fixture = await startFixture({
      MQ_SERVICE: "checkout",
      MQ_CALLS: `${first.host}:${first.port}, ${second.host}:${second.port}`,
    });
    const headers = { "x-request-id": "req-1", "x-mq-trace": "abc", "x-other": "dropped" };
    for (let i = 0; i < 3; i++) {
      const res = await get(`${fixture.url}/`, headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        service: "checkout",
        replica: 0,
        calls: [
          { service: "127.0.0.2", status: 200, servedBy: "payments-1" },
          { service: "127.0.0.3", status: 200, servedBy: "ledger-0" },
        ],
      });
    }
    for (const callee of [first, second]) {
      expect(callee.requests).toHaveLength(3);
      expect(callee.connections).toBe(1);
      expect(callee.requests[0]).toMatchObject({ "x-request-id": "req-1", "x-mq-trace": "abc" });
      expect(callee.requests[0]).not.toHaveProperty("x-other");
      expect(callee.requests[0]?.host).toBe(`${callee.host}:${callee.port}`);
    }
  });

  it("answers 502 naming the failed call and stops calling after it", async () => {
    const failing = await startCallee("127.0.0.2", () => ({ status: 503, body: "no healthy upstream" }));
    const never = await startCallee("127.0.0.3", () => ({ status: 200, body: {} }));
    const fixture = await startFixture({
      MQ_SERVICE: "checkout",
      MQ_CALLS: `${failing.host}:${failing.port},${never.host}:${never.port}`,
    });
    const res = await get(`${fixture.url}/`);
    expect(res.status).toBe(502);
    expect(res.body).toEqual({
      service: "checkout",
      replica: 0,
      error: "call to 127.0.0.2 failed: status 503",
      failed: "127.0.0.2",
      calls: [{ service: "127.0.0.2", status: 503, servedBy: null }],
    });
    expect(never.requests).toHaveLength(0);
  });

  it("answers 502 with the transport error when a callee cannot be reached", async () => {
    const fixture = await startFixture({ MQ_SERVICE: "checkout", MQ_CALLS: `127.0.0.2:${await unusedPort("127.0.0.2")}` });
    const res = await get(`${fixture.url}/`);
    expect(res.status).toBe(502);
    expect(res.body.failed).toBe("127.0.0.2");
    expect(res.body.calls).toEqual([
      { service: "127.0.0.2", status: null, servedBy: null, error: expect.stringContaining("ECONNREFUSED") },
    ]);
  });

  it("answers 500 on every request with errorRate 1", async () => {
    const fixture = await startFixture({ MQ_SERVICE: "payments", MQ_REPLICA: "1", MQ_ERROR_RATE: "1" });
    for (let i = 0; i < 5; i++) {
      const res = await get(`${fixture.url}/`);
      expect(res.status).toBe(500);
      expect(res.body).toEqual({ service: "payments", replica: 1, error: "injected by errorRate" });
    }
    expect((await get(`${fixture.url}/healthz`)).status).toBe(200);
  });

  it("answers 503 to the first failFirst tries of each request id, then serves it", async () => {
    const fixture = await startFixture({ MQ_SERVICE: "payments", MQ_FAIL_FIRST: "2" });
    const statuses = async (headers: Record<string, string>, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await get(`${fixture.url}/`, headers)).status);
      return out;
    };
    expect(await statuses({ "x-request-id": "a" }, 4)).toEqual([503, 503, 200, 200]);
    // Each id counts on its own; the mesh's request id stands in when there is no x-request-id.
    expect(await statuses({ "x-request-id": "b" }, 3)).toEqual([503, 503, 200]);
    expect(await statuses({ "x-mq-req": "frontend-0.7" }, 3)).toEqual([503, 503, 200]);
    const failed = await get(`${fixture.url}/`, { "x-request-id": "c" });
    expect(failed.body).toEqual({ service: "payments", replica: 0, error: "failFirst: try 1 of request c fails (first 2)" });
    // Nothing to count by: served.
    expect(await statuses({}, 2)).toEqual([200, 200]);
    expect((await get(`${fixture.url}/healthz`)).status).toBe(200);
  });

  it("honours the latency range", async () => {
    const fixture = await startFixture({ MQ_LATENCY_MIN_MS: "30", MQ_LATENCY_MAX_MS: "70", MQ_SEED: "7" });
    await get(`${fixture.url}/healthz`);
    const elapsed: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = performance.now();
      expect((await get(`${fixture.url}/`)).status).toBe(200);
      elapsed.push(performance.now() - start);
    }
    expect(Math.min(...elapsed)).toBeGreaterThanOrEqual(29);
    expect(Math.max(...elapsed)).toBeLessThan(70 + 40);
    // Uniform over 40 ms: twenty draws spread well beyond timer jitter.
    expect(Math.max(...elapsed) - Math.min(...elapsed)).toBeGreaterThan(10);
  });

  it("repeats the same error pattern for the same seed, service and replica", async () => {
    const pattern = async (env: Record<string, string>) => {
      const fixture = await startFixture({ MQ_SERVICE: "payments", MQ_ERROR_RATE: "0.5", ...env });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await get(`${fixture.url}/`)).status);
      return statuses.map((s) => (s === 500 ? "x" : ".")).join("");
    };
    const a = await pattern({ MQ_SEED: "42", MQ_REPLICA: "0" });
    const b = await pattern({ MQ_SEED: "42", MQ_REPLICA: "0" });
    const otherReplica = await pattern({ MQ_SEED: "42", MQ_REPLICA: "1" });
    const otherSeed = await pattern({ MQ_SEED: "43", MQ_REPLICA: "0" });
    expect(b).toBe(a);
    expect(a).toMatch(/x/);
    expect(a).toMatch(/\./);
    expect(otherReplica).not.toBe(a);
    expect(otherSeed).not.toBe(a);
  });

  it("exits promptly on SIGTERM, even with an open keep-alive connection", async () => {
    const fixture = await startFixture({});
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      http.get(`${fixture.url}/`, { agent }, (res) => res.resume().on("end", resolve)).on("error", reject),
    );
    const start = performance.now();
    const exited = new Promise<number | null>((resolve) => fixture.process.once("exit", resolve));
    fixture.process.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(performance.now() - start).toBeLessThan(1000);
    agent.destroy();
  });

  it("refuses an invalid configuration with every problem named", async () => {
    const child = spawn(process.execPath, [SERVER], {
      env: { MQ_ERROR_RATE: "1.5", MQ_CALLS: "payments:8080,bad entry", MQ_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('MQ_ERROR_RATE="1.5": expected a number in 0..1');
    expect(stderr).toContain('MQ_CALLS entry "bad entry": expected "service:port"');
  });
});
