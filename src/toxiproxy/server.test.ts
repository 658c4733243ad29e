// The API driven by toxiproxy-node-client itself, against an `inject` that records what it is
// asked to switch on and off (and refuses what the scenario format refuses, as a mesh does).
import { Toxiproxy, ToxiproxyError, type ICreateToxicBody, type Latency } from "toxiproxy-node-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { faultSchema } from "../scenario/spec.js";
import { startToxiproxyApi, type ToxiproxyApi } from "./server.js";
import type { FaultInput } from "./toxics.js";

class FaultInputError extends Error {
  override name = "FaultInputError";
}

/** A mesh's `inject` as far as the API can tell: the faults on now, and every call in order. */
function fakeMesh() {
  const on = new Map<string, FaultInput>();
  const calls: string[] = [];
  /** Faults whose inject fails as the engine can (not a refusal of the fault). */
  const broken = new Set<string>();
  return {
    on,
    calls,
    broken,
    async inject(fault: FaultInput) {
      if (broken.has(fault.name)) throw new Error("docker exec failed: no such container");
      const parsed = faultSchema.safeParse(fault);
      if (!parsed.success) throw new FaultInputError(`${fault.name}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      if (on.has(fault.name)) throw new Error(`fault ${fault.name} is on already`);
      on.set(fault.name, fault);
      calls.push(`inject ${fault.name}`);
      return {
        name: fault.name,
        revert: async () => {
          on.delete(fault.name);
          calls.push(`revert ${fault.name}`);
        },
      };
    },
  };
}

const SERVICES = ["frontend", "checkout", "payments"];

function latency(name: string, attributes: Latency, toxicity = 1): ICreateToxicBody<Latency> {
  return { name, type: "latency", stream: "downstream", toxicity, attributes };
}

/** What the client threw: it keeps only the status, so the body is read with fetch where it matters. */
async function clientError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ToxiproxyError);
  return (error as Error).message;
}

describe("the Toxiproxy API over meshquake faults, through toxiproxy-node-client", () => {
  let mesh: ReturnType<typeof fakeMesh>;
  let api: ToxiproxyApi;
  let toxiproxy: Toxiproxy;

  beforeEach(async () => {
    mesh = fakeMesh();
    api = await startToxiproxyApi({ services: SERVICES, inject: (f) => mesh.inject(f) });
    toxiproxy = new Toxiproxy(api.url);
  });

  afterEach(async () => {
    await api.close();
  });

  it("answers its version and one enabled proxy per service, on 127.0.0.1", async () => {
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: expect.stringMatching(/-meshquake$/) });
    const proxies = await toxiproxy.getAll();
    expect(Object.keys(proxies)).toEqual(SERVICES);
    expect(proxies.payments!.toJson()).toEqual({ name: "payments", listen: "payments:inbound", upstream: "payments:app", enabled: true });
    expect((await toxiproxy.get("checkout")).name).toBe("checkout");
  });

  it("adds a latency toxic as a delay fault, reads it back, updates it and removes it", async () => {
    const proxy = await toxiproxy.get("payments");
    const toxic = await proxy.addToxic(latency("slow", { latency: 200, jitter: 50 }, 0.5));
    expect(toxic.toJson()).toEqual({ name: "slow", type: "latency", stream: "downstream", toxicity: 0.5, attributes: { latency: 200, jitter: 50 } });
    expect([...mesh.on.values()]).toEqual([{ name: "toxiproxy-payments-slow", kind: "delay", target: "payments", percent: 50, delay: "150ms..250ms" }]);

    expect((await proxy.getToxic("slow")).toJson()).toEqual(toxic.toJson());
    const listed = (await fetch(`${api.url}/proxies/payments/toxics`).then((r) => r.json())) as unknown[];
    expect(listed).toEqual([toxic.toJson()]);

    const updated = await toxic.update(latency("slow", { latency: 400, jitter: 0 }));
    expect(updated.toJson()).toMatchObject({ toxicity: 1, attributes: { latency: 400, jitter: 0 } });
    expect(mesh.on.get("toxiproxy-payments-slow")).toMatchObject({ percent: 100, delay: "400ms" });

    await updated.remove();
    expect(mesh.on.size).toBe(0);
    expect(mesh.calls).toEqual(["inject toxiproxy-payments-slow", "revert toxiproxy-payments-slow", "inject toxiproxy-payments-slow", "revert toxiproxy-payments-slow"]);
    expect(await clientError(proxy.getToxic("slow"))).toBe("Request failed with status code 404");
  });

  it("disables a proxy as partitions from every other service, and enables it again", async () => {
    const proxy = await toxiproxy.get("payments");
    const disabled = await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(disabled.enabled).toBe(false);
    expect([...mesh.on.values()]).toEqual([
      { name: "toxiproxy-payments-disabled-from-frontend", kind: "partition", between: ["frontend", "payments"], direction: "oneway" },
      { name: "toxiproxy-payments-disabled-from-checkout", kind: "partition", between: ["checkout", "payments"], direction: "oneway" },
    ]);
    expect((await toxiproxy.get("payments")).enabled).toBe(false);

    const enabled = await disabled.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(enabled.enabled).toBe(true);
    expect(mesh.on.size).toBe(0);
  });

  it("answers a toxic with no counterpart with a 400 that names it and lists the supported ones", async () => {
    const proxy = await toxiproxy.get("payments");
    const slicer = proxy.addToxic({ name: "s", type: "slicer", stream: "downstream", toxicity: 1, attributes: { average_size: 10, size_variation: 1, delay: 0 } });
    expect(await clientError(slicer)).toBe("Request failed with status code 400");

    const response = await fetch(`${api.url}/proxies/payments/toxics`, { method: "POST", body: JSON.stringify({ type: "limit_data", attributes: { bytes: 10 } }) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: `invalid toxic type: meshquake has no counterpart for "limit_data" (meshquake cannot close a connection after a number of bytes); supported: latency, timeout, reset_peer, bandwidth, down`,
      status: 400,
    });
    expect(mesh.calls).toEqual([]);
  });

  it("answers Toxiproxy's errors: unknown proxy 404, duplicate toxic 409, a fault the mesh refuses 400", async () => {
    expect(await clientError(toxiproxy.get("paymnt"))).toBe("Request failed with status code 404");
    const missing = await fetch(`${api.url}/proxies/paymnt/toxics`);
    expect(await missing.json()).toEqual({
      error: 'proxy not found: "paymnt"; the proxies are the mesh\'s services: "frontend", "checkout", "payments"',
      status: 404,
    });

    const proxy = await toxiproxy.get("payments");
    await proxy.addToxic(latency("slow", { latency: 10, jitter: 0 }));
    expect(await clientError(proxy.addToxic(latency("slow", { latency: 20, jitter: 0 })))).toBe("Request failed with status code 409");

    // Longer than the sidecar delays: the mesh's inject refuses it, and nothing stays on.
    const tooLong = await fetch(`${api.url}/proxies/payments/toxics`, { method: "POST", body: JSON.stringify(latency("long", { latency: 7_200_000, jitter: 0 })) });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: string }).error).toMatch(/^bad request body: meshquake refused the fault: toxiproxy-payments-long: delay: must be at most 1h/);
    expect([...mesh.on.keys()]).toEqual(["toxiproxy-payments-slow"]);
  });

  it("keeps a toxic as it was when its update is refused", async () => {
    const proxy = await toxiproxy.get("payments");
    const toxic = await proxy.addToxic(latency("slow", { latency: 10, jitter: 0 }));
    expect(await clientError(toxic.update(latency("slow", { latency: 7_200_000, jitter: 0 })))).toBe("Request failed with status code 400");
    expect((await proxy.getToxic("slow")).attributes).toEqual({ latency: 10, jitter: 0 });
    expect(mesh.on.get("toxiproxy-payments-slow")).toMatchObject({ delay: "10ms" });
  });

  it("switches on all of a toxic's faults or none, and a fault that will not go on is a 500 naming it", async () => {
    mesh.broken.add("toxiproxy-payments-disabled-from-checkout");
    const response = await fetch(`${api.url}/proxies/payments`, { method: "POST", body: JSON.stringify({ enabled: false }) });
    expect(await response.json()).toEqual({
      error: "could not switch on fault toxiproxy-payments-disabled-from-checkout: docker exec failed: no such container",
      status: 500,
    });
    expect(mesh.calls).toEqual(["inject toxiproxy-payments-disabled-from-frontend", "revert toxiproxy-payments-disabled-from-frontend"]);
    expect((await toxiproxy.get("payments")).enabled).toBe(true);
  });

  it("creates only the proxies it has: an existing service is answered as it is, another name is refused", async () => {
    const created = await toxiproxy.createProxy({ name: "payments", listen: "localhost:0", upstream: "payments:8080" });
    expect(created.toJson()).toEqual({ name: "payments", listen: "payments:inbound", upstream: "payments:app", enabled: true });
    const refused = await fetch(`${api.url}/proxies`, { method: "POST", body: JSON.stringify({ name: "redis", listen: "localhost:0", upstream: "redis:6379" }) });
    expect(await refused.json()).toEqual({
      error: `meshquake cannot create proxy "redis": its proxies are the mesh's services, one each ("frontend", "checkout", "payments"); use one of those names`,
      status: 400,
    });
    expect(await clientError(created.remove())).toBe("Request failed with status code 405");
    expect(await clientError(created.update({ enabled: false, listen: "localhost:0", upstream: "payments:8080" }))).toBe("Request failed with status code 400");
    expect(mesh.calls).toEqual([]);
  });

  it("reset reverts every toxic and enables every proxy; close reverts what is left", async () => {
    const payments = await toxiproxy.get("payments");
    await payments.addToxic(latency("slow", { latency: 10, jitter: 0 }));
    await payments.addToxic({ name: "hole", type: "timeout", stream: "upstream", toxicity: 1, attributes: { timeout: 0 } });
    const checkout = await toxiproxy.get("checkout");
    await checkout.update({ enabled: false, listen: checkout.listen, upstream: checkout.upstream });
    expect(mesh.on.size).toBe(4);

    await toxiproxy.reset();
    expect(mesh.on.size).toBe(0);
    const proxies = await toxiproxy.getAll();
    expect(Object.values(proxies).map((p) => p.enabled)).toEqual([true, true, true]);
    expect(((await fetch(`${api.url}/proxies/payments`).then((r) => r.json())) as { toxics: unknown[] }).toxics).toEqual([]);

    await payments.addToxic({ name: "rst", type: "reset_peer", stream: "downstream", toxicity: 0.2, attributes: { timeout: 0 } });
    expect(mesh.on.get("toxiproxy-payments-rst")).toEqual({ name: "toxiproxy-payments-rst", kind: "reset", target: "payments", percent: 20 });
    await api.close();
    expect(mesh.on.size).toBe(0);
  });

  it("says in a header where meshquake's fault differs from what Toxiproxy would do", async () => {
    const response = await fetch(`${api.url}/proxies/payments/toxics`, {
      method: "POST",
      body: JSON.stringify({ name: "hole", type: "timeout", attributes: { timeout: 500 } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-meshquake-approximation")).toMatch(/^timeout 500: meshquake holds each affected request/);
  });
});
