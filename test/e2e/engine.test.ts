// The engine as the CLI reaches it: through DOCKER_HOST (a unix socket or a tcp:// address, as
// the docker CLI reads it), and when it goes away in the middle of a run. The engine is the
// machine's own, behind a proxy the test can cut (test/e2e/engine-proxy.ts): cutting it is what
// the harness sees when dockerd stops or restarts (refused connects, streams ended), without
// stopping an engine other tests share. Restoring it then lets `meshquake clean` finish the job.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunReport } from "../../src/model/run-report.js";
import { labelled, testDocker, testImage } from "../integration/docker-env.js";
import { engineProxy, type EngineProxy } from "./engine-proxy.js";
import { cli } from "./run-cli.js";

const docker = testDocker();
let dir: string;
const proxies: EngineProxy[] = [];

const scenario = (name: string, duration: string) => `name: ${name}
services:
  frontend: { calls: [payments] }
  payments: { replicas: 2 }
load: { target: frontend, rate: 40, connections: 4, duration: ${duration} }
faults:
  - { name: pay-abort, kind: abort, target: payments, percent: 30, status: 503, at: 1s, duration: 20s }
checks:
  - { slo: error_rate < 50%, window: whole }
  - { slo: p(99) < 2s, window: fault:pay-abort }
`;

beforeAll(async () => {
  await testImage();
  dir = await mkdtemp(join(tmpdir(), "mq-e2e-engine-"));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
});

const proxy = async (kind: "unix" | "tcp") => {
  const p = await engineProxy({ kind });
  proxies.push(p);
  return p;
};

describe("DOCKER_HOST", () => {
  it("tcp://host:port reaches the engine as the docker CLI would", async () => {
    const p = await proxy("tcp");
    expect(p.dockerHost).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const file = join(dir, "hr-eng-tcp.yaml");
    await writeFile(file, `name: hr-eng-tcp\nservices:\n  frontend: { calls: [payments] }\n  payments: {}\nload: { target: frontend, rate: 40, duration: 3s }\n`);
    const r = await cli(["run", file, "--out", join(dir, "out"), "--quiet"], { env: { DOCKER_HOST: p.dockerHost } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(dir, "out", "hr-eng-tcp", "report.json"), "utf8")) as RunReport;
    expect(report.client.requests).toBeGreaterThan(50);
    expect(await labelled(docker, report.runId)).toEqual({ containers: 0, networks: 0 });
  });

  it("what it cannot use is a usage error (exit 2), what does not answer is exit 3", async () => {
    const ssh = await cli(["run", "scenarios/demo.yaml"], { env: { DOCKER_HOST: "ssh://me@build-host" } });
    expect(ssh.code).toBe(2);
    expect(ssh.stderr).toMatch(/ssh:\/\/ engines are not supported\. Forward the remote socket/);
    const nobody = await cli(["run", "scenarios/demo.yaml"], { env: { DOCKER_HOST: `unix://${join(dir, "nobody.sock")}` } });
    expect(nobody.code).toBe(3);
    expect(nobody.stderr).toMatch(/Docker engine at unix:\/\/.*nobody\.sock unreachable/);
  });
});

describe("the engine going away in the middle of a run", () => {
  it("ends the run with exit 3 within seconds, a report of what was measured, checks in error; `clean` then leaves nothing", async () => {
    const p = await proxy("unix");
    const file = join(dir, "hr-eng-lost.yaml");
    const out = join(dir, "out");
    await writeFile(file, scenario("hr-eng-lost", "30s"));
    let cutAt = 0;
    const r = await cli(["run", file, "--out", out], {
      env: { DOCKER_HOST: p.dockerHost },
      onStderr: (text) => {
        if (cutAt === 0 && text.includes("fault pay-abort set")) {
          cutAt = -1;
          setTimeout(() => void p.cut().then(() => (cutAt = Date.now())), 1500);
        }
      },
    });
    const exitAfterS = (Date.now() - cutAt) / 1000;
    expect(r.code, r.stderr).toBe(3);
    console.log(`engine cut 1.5 s into the fault: exit ${r.code} ${exitAfterS.toFixed(2)} s later`);
    expect(exitAfterS).toBeLessThan(5);

    const report = JSON.parse(await readFile(join(out, "hr-eng-lost", "report.json"), "utf8")) as RunReport;
    expect(report.verdict).toBe("error");
    expect(report.exitCode).toBe(3);
    expect(report.errors.map((e) => e.stage)).toContain("runtime");
    expect(report.errors.find((e) => e.stage === "runtime")!.message).toMatch(/Docker engine.* at \d+\.\d s into the load; the run stopped there/);
    // What was measured until then is kept; no check is judged on it, and none says "failed".
    expect(report.client.requests).toBeGreaterThan(40);
    expect(report.checks.map((c) => c.status)).toEqual(["error", "error"]);
    expect(report.checks[0]!.reason).toMatch(/harness lost the run's infrastructure/);
    const junit = await readFile(join(out, "hr-eng-lost", "junit.xml"), "utf8");
    expect(junit).toMatch(/<error message="the harness lost/);
    expect(junit).not.toContain("<failure");

    // The harness could not remove what the engine still runs; once the engine is back, clean does.
    expect((await labelled(docker, report.runId)).containers).toBeGreaterThan(0);
    await p.restore();
    const clean = await cli(["clean"], { env: { DOCKER_HOST: p.dockerHost } });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/removed \d+ container\(s\), \d+ network\(s\) and \d+ run director/);
    expect(await labelled(docker, report.runId)).toEqual({ containers: 0, networks: 0 });
    expect(existsSync(`/tmp/meshquake-${report.runId}`)).toBe(false);
  });
});
