// Drives real load at local servers on 127.0.0.1. Assertions leave room for a busy 2-core
// machine: counts within 10%, latencies within a few milliseconds of the service time.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { WindowSpan } from "../plan/types.js";
import { ClientRecorder, type ClientSample } from "../observe/client-recorder.js";
import type { RequestTemplate } from "../scenario/types.js";
import { planGroups, runClosedLoad as runLoad, STAGGER_GROUPS_MAX, withRequestId } from "./closed-loop.js";

const GET: RequestTemplate[] = [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }];

interface TestServer {
  url: string;
  /** Arrival times (ms from the server's start), paths and x-request-ids of the requests it received. */
  arrivals: { atMs: number; path: string; id: string | undefined }[];
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server on 127.0.0.1; `handle` returns false to leave the request unanswered. */
async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<TestServer> {
  const arrivals: TestServer["arrivals"] = [];
  const t0 = performance.now();
  const server = http.createServer((req, res) => {
    const id = req.headers["x-request-id"];
    arrivals.push({ atMs: performance.now() - t0, path: req.url ?? "", id: Array.isArray(id) ? id.join(",") : id });
    handle(req, res, arrivals.length);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

const after = (ms: number, res: http.ServerResponse, status = 200): void => {
  setTimeout(() => {
    res.statusCode = status;
    res.end("ok");
  }, ms);
};

const whole = (durationMs: number): WindowSpan[] => [{ name: "whole", ref: { kind: "whole" }, start: 0, end: durationMs }];

describe("planGroups", () => {
  it("spreads rate and connections over groups started evenly across a second", () => {
    expect(planGroups(100, 4)).toEqual([
      { connections: 1, rate: 25, offsetMs: 0 },
      { connections: 1, rate: 25, offsetMs: 250 },
      { connections: 1, rate: 25, offsetMs: 500 },
      { connections: 1, rate: 25, offsetMs: 750 },
    ]);
  });

  it("caps the groups, keeps every total and gives each connection at least one request a second", () => {
    const groups = planGroups(1001, 40);
    expect(groups).toHaveLength(STAGGER_GROUPS_MAX);
    expect(groups.reduce((s, g) => s + g.rate, 0)).toBe(1001);
    expect(groups.reduce((s, g) => s + g.connections, 0)).toBe(40);
    for (const g of groups) expect(g.rate).toBeGreaterThanOrEqual(g.connections);
    // Fewer requests a second than connections: autocannon would drop the extra connections.
    expect(planGroups(3, 16).map((g) => g.connections)).toEqual([1, 1, 1]);
  });
});

describe("runLoad", () => {
  it("records every response in microseconds at the configured rate", async () => {
    const server = await serve((_req, res) => after(20, res));
    const recorder = new ClientRecorder(whole(3000));
    const result = await runLoad({ url: server.url, rate: 100, connections: 10, durationMs: 3000, requests: GET, recorder });

    const stats = recorder.stats();
    expect(result.aborted).toBe(false);
    expect(stats.requests).toBe(result.recorded);
    expect(stats.requests).toBeGreaterThanOrEqual(270);
    expect(stats.requests).toBeLessThanOrEqual(330);
    expect(stats.errors).toBe(0);
    expect(stats.statusCounts).toEqual({ "200": stats.requests });
    expect(stats.latencyUs.p50).toBeGreaterThanOrEqual(20_000);
    expect(stats.latencyUs.p50).toBeLessThanOrEqual(25_000);
    expect(stats.latencyUs.p50 % 1000).not.toBe(0); // microseconds, not autocannon's whole milliseconds
    expect(stats.timeline.map((p) => p.t)).toEqual([0, 1, 2]);
    expect(result.durationMs).toBeGreaterThanOrEqual(2990);
    expect(result.durationMs).toBeLessThan(3200);
    // Staggered groups: no 100 ms slice of a steady second gets more than a few times its share.
    const perSlice = new Array(20).fill(0);
    for (const a of server.arrivals) if (a.atMs >= 1000 && a.atMs < 3000) perSlice[Math.floor((a.atMs - 1000) / 100)]++;
    expect(Math.max(...perSlice)).toBeLessThanOrEqual(30);
  });

  it("counts a server answering 503 as errors", async () => {
    const server = await serve((_req, res) => after(2, res, 503));
    const recorder = new ClientRecorder(whole(1000));
    await runLoad({ url: server.url, rate: 50, connections: 5, durationMs: 1000, requests: GET, recorder });
    const stats = recorder.stats();
    expect(stats.requests).toBeGreaterThan(40);
    expect(stats.errors).toBe(stats.requests);
    expect(stats.statusCounts).toEqual({ "503": stats.requests });
    expect(stats.windows.whole!.errors).toBe(stats.requests);
  });

  it("records connection failures as error and unanswered requests as timeout", async () => {
    const server = await serve((req, res, n) => {
      if (n % 5 === 1) return req.socket.destroy(); // the 1st, 6th, ...: connection closed, no response
      if (n === 2) return; // never answered
      after(1, res);
    });
    const samples: ClientSample[] = [];
    const result = await runLoad({
      url: server.url,
      rate: 20,
      connections: 2,
      durationMs: 1500,
      timeoutMs: 1000,
      drainMs: 0,
      requests: GET,
      recorder: { record: (s) => samples.push(s) },
    });
    const count = (status: ClientSample["status"]): number => samples.filter((s) => s.status === status).length;
    expect(count("error")).toBeGreaterThanOrEqual(3);
    expect(count("timeout")).toBe(1);
    for (const s of samples.filter((x) => x.status === "timeout")) {
      expect(s.latencyUs).toBeGreaterThanOrEqual(990_000);
      expect(s.latencyUs).toBeLessThan(1_400_000);
    }
    expect(count(200)).toBeGreaterThan(10);
    expect(samples.every((s) => s.startUs >= 0 && s.startUs < result.durationMs * 1000)).toBe(true);
  });

  it("does not count requests autocannon writes into a connection the server announced it would close", async () => {
    const server = await serve((_req, res) => {
      res.setHeader("Connection", "close");
      after(1, res);
    });
    const recorder = new ClientRecorder(whole(1000));
    const result = await runLoad({ url: server.url, rate: 20, connections: 2, durationMs: 1000, drainMs: 0, requests: GET, recorder });
    const stats = recorder.stats();
    expect(stats.errors).toBe(0);
    expect(stats.requests).toBeGreaterThan(5);
    expect(result.dropped).toBeGreaterThan(0);
  });

  it("stops early when aborted", async () => {
    const server = await serve((_req, res) => after(5, res));
    const recorder = new ClientRecorder(whole(10_000));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    const t0 = performance.now();
    const result = await runLoad({
      url: server.url,
      rate: 50,
      connections: 5,
      durationMs: 10_000,
      requests: GET,
      recorder,
      signal: controller.signal,
    });
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(result.aborted).toBe(true);
    expect(result.durationMs).toBeGreaterThanOrEqual(490);
    expect(result.durationMs).toBeLessThan(1500);
    expect(recorder.stats().requests).toBeGreaterThan(5);
    expect(recorder.stats().requests).toBeLessThan(100);
  });

  it("does not start when the signal is already aborted", async () => {
    const server = await serve((_req, res) => after(1, res));
    const recorder = new ClientRecorder(whole(1000));
    const result = await runLoad({
      url: server.url,
      rate: 10,
      connections: 1,
      durationMs: 1000,
      requests: GET,
      recorder,
      signal: AbortSignal.abort(),
    });
    expect(result).toMatchObject({ aborted: true, recorded: 0 });
    expect(server.arrivals).toHaveLength(0);
  });

  it("mixes requests by weight", async () => {
    const server = await serve((_req, res) => after(1, res));
    const requests: RequestTemplate[] = [
      { method: "GET", path: "/a", headers: {}, body: null, weight: 3 },
      { method: "POST", path: "/b", headers: { "content-type": "text/plain" }, body: "hello", weight: 1 },
    ];
    const recorder = new ClientRecorder(whole(1000));
    await runLoad({ url: server.url, rate: 80, connections: 4, durationMs: 1000, requests, recorder });
    const a = server.arrivals.filter((x) => x.path === "/a").length;
    const b = server.arrivals.filter((x) => x.path === "/b").length;
    expect(a + b).toBe(server.arrivals.length);
    expect(a / (a + b)).toBeGreaterThan(0.7);
    expect(a / (a + b)).toBeLessThan(0.8);
  });

  it("rejects options autocannon would misread", async () => {
    const recorder = new ClientRecorder([]);
    const base = { url: "http://127.0.0.1:1", rate: 10, connections: 1, durationMs: 1000, requests: GET, recorder };
    await expect(runLoad({ ...base, rate: 0 })).rejects.toThrow(/rate must be a positive integer, got 0/);
    await expect(runLoad({ ...base, connections: 1.5 })).rejects.toThrow(/connections must be a positive integer/);
    await expect(runLoad({ ...base, url: "ftp://127.0.0.1/" })).rejects.toThrow(/must be http/);
  });

  it("sends every request with its own x-request-id, and hands the id and path of each to the recorder", async () => {
    const server = await serve((req, res) => after(1, res, req.url === "/b" ? 503 : 200));
    const requests: RequestTemplate[] = [
      { method: "GET", path: "/a", headers: { "X-Request-Id": "fixed" }, body: null, weight: 1 },
      { method: "POST", path: "/b", headers: {}, body: "x", weight: 1 },
    ];
    const samples: ClientSample[] = [];
    await runLoad({ url: server.url, rate: 60, connections: 3, durationMs: 1000, requests, recorder: { record: (s) => samples.push(s) }, requestIdPrefix: "t" });
    const ids = server.arrivals.map((a) => a.id);
    expect(ids.every((id) => id !== undefined && /^t-[0-9a-z]+$/.test(id))).toBe(true); // the template's own id is replaced
    expect(new Set(ids).size).toBe(ids.length);
    const sent = new Map(server.arrivals.map((a) => [a.id, a.path]));
    expect(samples.length).toBeGreaterThan(40);
    for (const s of samples) expect(sent.get(s.id)).toBe(s.path);
    expect(samples.filter((s) => s.status === 503).every((s) => s.path === "/b")).toBe(true);
  });
});

describe("withRequestId", () => {
  it("adds the header after the request line and leaves the rest, body included, as it was", () => {
    const request = Buffer.from("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    expect(withRequestId(request, "id-1")!.toString()).toBe("POST /x HTTP/1.1\r\nx-request-id: id-1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    expect(withRequestId(Buffer.from("garbage"), "id")).toBeNull();
  });
});
