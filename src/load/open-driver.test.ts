// The open-loop generator against local servers on 127.0.0.1: it keeps its schedule whatever the
// server does. Assertions leave room for a busy 2-core machine.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ClientSample } from "../observe/client-recorder.js";
import type { RequestTemplate } from "../scenario/types.js";
import { runOpenLoad, type OpenLoadOptions } from "./open-driver.js";

const GET: RequestTemplate[] = [{ method: "GET", path: "/", headers: {}, body: null, weight: 1 }];

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A server on 127.0.0.1 recording when each request arrived (ms from its start, warm-up excluded). */
async function serve(handle: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; arrivals: { atMs: number; id: string; path: string }[] }> {
  const arrivals: { atMs: number; id: string; path: string }[] = [];
  let t0 = 0;
  const server = http.createServer((req, res) => {
    const id = String(req.headers["x-request-id"] ?? "");
    if (!id.includes("-warm-")) {
      if (arrivals.length === 0) t0 = performance.now();
      arrivals.push({ atMs: performance.now() - t0, id, path: req.url ?? "" });
    }
    handle(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, arrivals };
}

async function load(url: string, over: Partial<OpenLoadOptions> = {}): Promise<{ samples: ClientSample[]; result: Awaited<ReturnType<typeof runOpenLoad>> }> {
  const samples: ClientSample[] = [];
  const result = await runOpenLoad({
    url,
    rate: 100,
    durationMs: 1000,
    requests: GET,
    arrivals: "constant",
    seed: 1,
    maxInFlight: 1000,
    timeoutMs: 5000,
    recorder: { record: (s) => samples.push(s) },
    ...over,
  });
  return { samples, result };
}

const ok = (_req: http.IncomingMessage, res: http.ServerResponse) => res.end("ok");

describe("runOpenLoad", () => {
  it("sends every scheduled request once, each with its own id, due time, send time and latency from its due time", async () => {
    const server = await serve(ok);
    const { samples, result } = await load(server.url, { rate: 200, durationMs: 1000, requestIdPrefix: "t" });
    expect(result).toMatchObject({ model: "open", recorded: 200, aborted: false, unfinished: 0 });
    expect(samples).toHaveLength(200);
    expect(samples.every((s) => s.status === 200)).toBe(true);
    expect(new Set(samples.map((s) => s.id)).size).toBe(200);
    expect(server.arrivals.map((a) => a.id).sort()).toEqual(samples.map((s) => s.id).sort());
    const due = samples.map((s) => s.startUs).sort((a, b) => a - b);
    expect(due[0]).toBe(0);
    expect(due[199]).toBe(995_000);
    for (const s of samples) {
      expect(s.sentUs!).toBeGreaterThanOrEqual(s.startUs);
      expect(s.latencyUs).toBeGreaterThan(0);
      expect(s.latencyUs).toBeGreaterThanOrEqual(s.sentUs! - s.startUs);
    }
  });

  it("does not back off when the server slows: arrivals keep the rate while earlier requests wait", async () => {
    // Each answer takes 400 ms. A closed pool of 8 connections would send 8 requests per 400 ms
    // (20/s); the open load sends 100 in the second regardless.
    const server = await serve((_req, res) => setTimeout(() => res.end("slow"), 400));
    const { samples, result } = await load(server.url, { rate: 100, durationMs: 1000 });
    expect(result.recorded).toBe(100);
    // The load goes on, unrecorded, while the last recorded requests finish: count the recorded ones.
    const recorded = new Set(samples.map((s) => s.id));
    const arrived = server.arrivals.filter((a) => recorded.has(a.id));
    expect(arrived).toHaveLength(100);
    expect(arrived.filter((a) => a.atMs < 1000).length).toBeGreaterThanOrEqual(95);
    expect(server.arrivals.length).toBeGreaterThan(100);
    expect(samples.every((s) => s.status === 200 && s.latencyUs >= 395_000)).toBe(true);
    expect(result.connections).toBeGreaterThanOrEqual(35); // ~40 requests in flight at once, one connection each
  });

  it("maxInFlight: a request due while the cap is reached is not sent and is recorded as notSent; timeouts free slots", async () => {
    const server = await serve(() => {}); // never answers
    const { samples } = await load(server.url, { rate: 100, durationMs: 1000, maxInFlight: 10, timeoutMs: 300 });
    expect(samples).toHaveLength(100);
    const by = (status: ClientSample["status"]) => samples.filter((s) => s.status === status);
    expect(by("timeout").length + by("notSent").length).toBe(100);
    // 10 in flight, each holding its slot for 300 ms: about 10 sent per 300 ms.
    expect(by("timeout").length).toBeGreaterThanOrEqual(25);
    expect(by("timeout").length).toBeLessThanOrEqual(50);
    expect(by("notSent").every((s) => s.sentUs === undefined)).toBe(true);
    expect(by("timeout").every((s) => Math.abs(s.latencyUs - 300_000) < 60_000)).toBe(true);
    const sent = new Set(by("timeout").map((s) => s.id));
    expect(server.arrivals.filter((a) => sent.has(a.id))).toHaveLength(sent.size);
  });

  it("records a refused connection as an error, and stops at once on abort", async () => {
    const closed = await serve(ok);
    const port = new URL(closed.url).port;
    const { samples } = await load(closed.url, { rate: 50, durationMs: 300 });
    expect(samples.every((s) => s.status === 200)).toBe(true);
    await new Promise((r) => servers.pop()!.close(r));
    // Nothing listens on the port now: the warm-up fails too, and the load still runs.
    const refused = await load(`http://127.0.0.1:${port}`, { rate: 50, durationMs: 300 });
    expect(refused.samples.length).toBe(15);
    expect(refused.samples.every((s) => s.status === "error")).toBe(true);

    const server = await serve(ok);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const t = performance.now();
    const aborted = await load(server.url, { rate: 100, durationMs: 10_000, signal: controller.signal });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(aborted.result.aborted).toBe(true);
    expect(aborted.samples.length).toBeLessThan(60);
  });

  it("poisson arrivals: about rate × duration requests with exponential gaps, the same for the same seed", async () => {
    const server = await serve(ok);
    const a = await load(server.url, { rate: 300, durationMs: 1000, arrivals: "poisson", seed: 7 });
    const b = await load(server.url, { rate: 300, durationMs: 1000, arrivals: "poisson", seed: 7 });
    expect(a.samples.length).toBeGreaterThan(240);
    expect(a.samples.length).toBeLessThan(360);
    const due = (x: typeof a) => x.samples.map((s) => s.startUs).sort((p, q) => p - q);
    expect(due(b)).toEqual(due(a));
  });
});
