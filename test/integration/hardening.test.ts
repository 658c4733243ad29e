// What a pod's containers may reach and do, on real Docker: each container confined to its role
// (capabilities, no new privileges, memory, pids and log limits, users); the sidecar's runtime API
// reachable by the harness only (a unix socket in the run's host directory, or through docker
// exec for an engine elsewhere), never published, never from an app; setup that fails or blocks
// stops cleanly and in time.
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { haproxyDataPlane } from "../../src/dataplane/haproxy/index.js";
import { buildPlan } from "../../src/plan/plan.js";
import { cleanLeftovers } from "../../src/runtime/clean.js";
import { execIn } from "../../src/runtime/exec.js";
import { OWNER_PID_LABEL } from "../../src/runtime/labels.js";
import { startTopology } from "../../src/runtime/topology.js";
import { ReadinessTimeoutError } from "../../src/runtime/wait-for.js";
import { parseScenario } from "../../src/scenario/load-scenario.js";
import type { ResolvedScenario } from "../../src/scenario/types.js";
import { labelled, testDocker, testImage } from "./docker-env.js";
import { destroyAgent, get, percentile, round1, runIdFor, startMesh, type Mesh } from "./faults-kit.js";

const SCENARIO = `
name: hardening
services:
  frontend: { calls: [payments] }
  payments: {}
load: { target: frontend, rate: 10, duration: 60s }
faults:
  - { name: front-abort, kind: abort, target: frontend, status: 418 }
`;

const docker = testDocker();
let mesh: Mesh;

beforeAll(async () => {
  mesh = await startMesh("hard", SCENARIO);
});

afterAll(async () => {
  destroyAgent();
  await mesh?.close();
});

const containersOf = async (runId: string) =>
  Promise.all((await docker.listContainers({ all: true, filters: { label: [`meshquake.run-id=${runId}`] } })).map((c) => docker.getContainer(c.Id).inspect()));

const uidsOf = async (id: string) => {
  const top = (await docker.getContainer(id).top({ ps_args: "-o pid,uid" })) as { Titles: string[]; Processes: string[][] };
  return [...new Set(top.Processes.map((p) => Number(p[top.Titles.indexOf("UID")])))];
};

/** Milliseconds per command over `n` sequential `show info` commands. */
async function latency(send: (command: string) => Promise<string>, n: number): Promise<{ p50: number; p99: number }> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    expect(await send("show info")).toContain("Name: HAProxy");
    ms.push(performance.now() - t0);
  }
  return { p50: round1(percentile(ms, 50)), p99: round1(percentile(ms, 99)) };
}

describe("every container of a pod is confined to its role", () => {
  it("no new privileges; capabilities: NET_ADMIN, SETUID and SETGID in the proxy container only; memory, pids and log limits everywhere", async () => {
    const all = await containersOf(mesh.runId);
    expect(all).toHaveLength(4);
    for (const c of all) {
      const role = c.Config.Labels["meshquake.role"];
      const h = c.HostConfig;
      expect(h.SecurityOpt, `${c.Name}`).toEqual(["no-new-privileges"]);
      expect(h.CapDrop, c.Name).toEqual(["ALL"]);
      expect(h.CapAdd ?? [], c.Name).toEqual(role === "proxy" ? ["NET_ADMIN", "SETGID", "SETUID"] : []);
      expect(h.Memory, c.Name).toBeGreaterThan(0);
      expect(h.MemorySwap, c.Name).toBe(h.Memory);
      expect(h.PidsLimit, c.Name).toBeGreaterThan(0);
      expect(h.LogConfig, c.Name).toMatchObject({ Type: "json-file", Config: { "max-size": expect.any(String), "max-file": "2" } });
      expect(c.Config.Labels[OWNER_PID_LABEL], c.Name).toBe(String(process.pid));
    }
  });

  it("the fixture runs as nobody, the sidecar as the reserved uid 1337 with no capability; in the proxy container only its first shell stays root", async () => {
    const pod = mesh.pod("payments-0");
    expect(await uidsOf(pod.ids.app)).toEqual([65534]);
    const top = (await docker.getContainer(pod.ids.proxy).top({ ps_args: "-o pid,uid,args" })) as { Titles: string[]; Processes: string[][] };
    const root = top.Processes.filter((p) => p[1] === "0").map((p) => p[2]);
    expect(root).toEqual([expect.stringMatching(/^\/bin\/sh \/usr\/local\/lib\/meshquake\/pod\/pod-init\.sh /)]);
    const haproxy = top.Processes.filter((p) => p[2]!.startsWith("haproxy "));
    expect(haproxy.length).toBeGreaterThan(0);
    expect(new Set(haproxy.map((p) => p[1]))).toEqual(new Set(["1337"]));
    // The sidecar lost every capability with the uid change (docker top gives this machine's pids).
    const status = await readFile(`/proc/${haproxy[0]![0]}/status`, "utf8");
    const caps = status.split("\n").filter((l) => /^Cap(Inh|Prm|Eff|Amb):/.test(l));
    expect(caps.map((l) => l.split(/\s+/)[1])).toEqual(["0000000000000000", "0000000000000000", "0000000000000000", "0000000000000000"]);
    // An app cannot change the pod's interception rules.
    const r = await execIn(docker, pod.ids.app, ["sh", "-c", "iptables -t nat -F 2>&1; echo exit=$?"]);
    expect(r.stdout).toMatch(/Permission denied|not permitted|exit=[1-9]/);
  });
});

describe("the sidecar's runtime API is the harness's alone", () => {
  it("is published nowhere: the only published port is the ingress's inbound listener", async () => {
    const all = await containersOf(mesh.runId);
    const published = all.flatMap((c) => Object.entries(c.HostConfig.PortBindings ?? {}).map(([port, b]) => `${c.Config.Labels["meshquake.pod"]} ${port} ${JSON.stringify(b)}`));
    expect(published).toEqual([`frontend-0 15006/tcp [{"HostIp":"127.0.0.1","HostPort":""}]`]);
  });

  it("answers on no port in the pod, and the apps cannot see its socket", async () => {
    const app = mesh.pod("payments-0").ids.app;
    // Everything listening in the pod's network namespace: the sidecar's two listeners and the app.
    // (Docker's embedded DNS also listens, on 127.0.0.11.)
    const listening = await execIn(docker, app, ["sh", "-c", "ss -Hltn | awk '{print $4}' | grep -v '^127.0.0.11:' | sed 's/.*://' | sort -n | uniq"]);
    expect(listening.stdout.trim().split("\n")).toEqual(["8080", "15001", "15006"]);
    const tcp = await execIn(docker, app, ["node", "-e", "require('net').connect(15000, '127.0.0.1').on('error', (e) => console.log(e.code)).on('connect', () => console.log('connected'))"]);
    expect(tcp.stdout.trim()).toBe("ECONNREFUSED");
    const files = await execIn(docker, app, ["sh", "-c", "ls -la /run/meshquake 2>&1; echo exit=$?"]);
    expect(files.stdout).toMatch(/No such file or directory[\s\S]*exit=2/);
  });

  it("the harness reaches it through a socket in the run's host directory, which only the harness's user may enter", async () => {
    const pod = mesh.pod("payments-0");
    const socket = pod.adminSocket!;
    expect((await stat(socket)).isSocket()).toBe(true);
    expect((await stat(dirname(dirname(socket)))).mode & 0o777).toBe(0o700);
    const host = await latency((c) => pod.admin.send(c), 200);
    console.log(`admin channel through the run directory's unix socket: p50 ${host.p50} ms, p99 ${host.p99} ms per command (200 commands)`);
    expect(host.p50).toBeLessThan(5);
  });

  it("through docker exec where the engine does not share this machine's files, and every fault still switches", async () => {
    const remote = await startMesh("hard-exec", SCENARIO, {}, { adminTransport: "exec" });
    try {
      const pod = remote.pod("frontend-0");
      expect(pod.adminSocket).toBeNull();
      const fault = remote.fault("front-abort");
      const url = `${remote.topology.ingressUrl}/`;
      await haproxyDataPlane.applyFault(pod.admin, { fault, untilEpochMs: Date.now() + 60_000 });
      expect((await get(url)).status).toBe(418);
      await haproxyDataPlane.revertFault(pod.admin, fault);
      expect((await get(url)).status).toBe(200);
      const exec = await latency((c) => pod.admin.send(c), 200);
      console.log(`admin channel through a docker exec relay (remote engines): p50 ${exec.p50} ms, p99 ${exec.p99} ms per command (200 commands)`);
      expect(exec.p50).toBeLessThan(10);
    } finally {
      await remote.close();
    }
  });
});

describe("setup that fails or blocks stops cleanly and in time", () => {
  const plan = async (name: string, yaml: string) => {
    const parsed = parseScenario(`${name}.yaml`, yaml);
    expect(parsed.problems.filter((p) => p.severity === "error")).toEqual([]);
    return buildPlan({ scenario: parsed.scenario as ResolvedScenario, runId: runIdFor(name), image: await testImage(), dataPlane: haproxyDataPlane });
  };
  const names = async (runId: string) => (await docker.listContainers({ all: true, filters: { label: [`meshquake.run-id=${runId}`] } })).map((c) => c.Names[0]!);

  it("a failed create stops its siblings: nothing is still being created when setup gives up, and nothing started after", async () => {
    const p = await plan("hard-fail", `name: hard-fail\nservices:\n  a: { replicas: 8 }\nload: { target: a }\n`);
    // The first pod's proxy container cannot be created (the engine refuses the name at once).
    p.pods[0]!.containers.proxy = "bad/name";
    try {
      const err = await startTopology(docker, p, { onSidecarLine: () => {} }).then(
        () => new Error("setup succeeded"),
        (e: unknown) => e as Error,
      );
      expect(err.message).toMatch(/Invalid container name|invalid/i);
      const atThrow = await names(p.runId);
      await new Promise((r) => setTimeout(r, 1500));
      const later = await names(p.runId);
      console.log(`failed create: ${atThrow.length} sibling proxy containers existed when setup threw, ${later.length} 1.5 s later`);
      expect(later.sort()).toEqual(atThrow.sort());
      expect(later.every((n) => !n.endsWith("-proxy") && !n.endsWith("-app"))).toBe(true);
      const running = await docker.listContainers({ filters: { label: [`meshquake.run-id=${p.runId}`] } });
      expect(running).toEqual([]);
    } finally {
      await cleanLeftovers(docker, p.runId);
    }
    expect(await labelled(docker, p.runId)).toEqual({ containers: 0, networks: 0 });
  });

  it("a health probe that never returns cannot hold the readiness timeout", async () => {
    const p = await plan("hard-hang", `name: hard-hang\nservices:\n  a: {}\nload: { target: a }\n`);
    p.pods[0]!.app.readiness = { kind: "exec", command: ["sleep", "1000"] };
    try {
      const t0 = Date.now();
      const err = await startTopology(docker, p, { onSidecarLine: () => {}, readinessTimeoutMs: 2500 }).then(
        () => new Error("setup succeeded"),
        (e: unknown) => e as Error,
      );
      const took = Date.now() - t0;
      expect(err).toBeInstanceOf(ReadinessTimeoutError);
      expect(err.message).toMatch(/a-0: app health command \["sleep","1000"\] exiting 0/);
      expect(err.message).toMatch(/last probe error: .*(did not finish within|no answer within)/);
      console.log(`hung health command: readiness gave up after ${took} ms of setup (timeout 2500 ms)`);
      expect(took).toBeLessThan(15_000);
    } finally {
      await cleanLeftovers(docker, p.runId);
    }
  });

  it("an app that steps down to the sidecar's uid (by its image's USER or its entrypoint) is refused", async () => {
    const p = await plan("hard-uid", `name: hard-uid\nservices:\n  a: {}\nload: { target: a }\n`);
    const app = p.pods[0]!.app;
    // As a user image whose entrypoint starts as root and drops to uid 1337.
    Object.assign(app, {
      kind: "user",
      user: "0",
      command: ["sh", "-c", `exec setpriv --reuid 1337 --regid 1337 --clear-groups ${app.command!.join(" ")}`],
    });
    try {
      const err = await startTopology(docker, p, { onSidecarLine: () => {} }).then(
        () => new Error("setup succeeded"),
        (e: unknown) => e as Error,
      );
      expect(err.message).toMatch(/a-0: the app \(.*\) runs "node .*" as uid 1337, the sidecar's own/);
    } finally {
      await cleanLeftovers(docker, p.runId);
    }
  });
});

