import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { describe, expect, it } from "vitest";
import { InfrastructureLostError, watchEngine } from "./engine-watch.js";

/** An engine whose pings do what `ping` says and whose event stream the test writes to. */
function fakeEngine(ping: () => Promise<unknown>) {
  const events = new PassThrough();
  const docker = { ping, getEvents: async () => events } as unknown as Docker;
  return { docker, events };
}

const lostWithin = (signal: AbortSignal, ms: number) =>
  new Promise<InfrastructureLostError | null>((resolve) => {
    if (signal.aborted) return resolve(signal.reason as InfrastructureLostError);
    const timer = setTimeout(() => resolve(null), ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve(signal.reason as InfrastructureLostError)), { once: true });
  });

const refused = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED /var/run/docker.sock"), { code: "ECONNREFUSED" }));
const never = () => new Promise(() => {});

describe("watching the engine during a run", () => {
  it("a refused ping is an engine gone at once", async () => {
    const { docker } = fakeEngine(refused);
    const w = watchEngine(docker, { runId: "r", intervalMs: 10 });
    const lost = await lostWithin(w.lost, 1000);
    expect(lost?.message).toMatch(/the Docker engine went away \(ECONNREFUSED/);
  });

  it("pings that hang count as lost after two misses", async () => {
    const { docker } = fakeEngine(never);
    const t0 = Date.now();
    const w = watchEngine(docker, { runId: "r", intervalMs: 10, timeoutMs: 50 });
    const lost = await lostWithin(w.lost, 2000);
    expect(lost?.message).toMatch(/stopped answering \(2 pings without an answer/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("the event stream ending, or a proxy container dying, is a loss; an app dying (a kill fault) is not", async () => {
    const ok = () => Promise.resolve("OK");
    const a = fakeEngine(ok);
    const wa = watchEngine(a.docker, { runId: "r", intervalMs: 10_000 });
    await new Promise((r) => setTimeout(r, 10));
    a.events.write(`${JSON.stringify({ Action: "die", Actor: { Attributes: { "meshquake.role": "app", "meshquake.pod": "p-0", exitCode: "137" } } })}\n`);
    expect(await lostWithin(wa.lost, 100)).toBeNull();
    a.events.write(`${JSON.stringify({ Action: "die", Actor: { Attributes: { "meshquake.role": "proxy", "meshquake.pod": "p-0", name: "x-p-0", exitCode: "137" } } })}\n`);
    expect((await lostWithin(wa.lost, 500))?.message).toBe("the proxy container of pod p-0 (x-p-0) died with exit code 137");

    const b = fakeEngine(ok);
    const wb = watchEngine(b.docker, { runId: "r", intervalMs: 10_000 });
    await new Promise((r) => setTimeout(r, 10));
    b.events.end();
    expect((await lostWithin(wb.lost, 500))?.message).toMatch(/ended its event stream/);
  });

  it("says nothing once stopped (the teardown removes the containers)", async () => {
    const { docker, events } = fakeEngine(refused);
    const w = watchEngine(docker, { runId: "r", intervalMs: 50 });
    w.stop();
    events.end();
    expect(await lostWithin(w.lost, 200)).toBeNull();
  });
});
