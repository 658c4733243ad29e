// SIGINT and SIGTERM at every phase of a run, through the real CLI: while a user image builds,
// while pods are created, while an app is waited for, under load with a fault on, during the
// teardown, and twice in a row. Each must end with exit 130 and leave nothing: no container or
// network of the run, no run directory, no build container. MQ_SIGNAL_TRIALS=N adds N trials at
// random moments (random signal, one in four doubled) and prints a table.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE_BUILD_ARG } from "../../src/runtime/user-images.js";
import { labelled, testDocker, testImage } from "../integration/docker-env.js";
import { cli, type CliResult } from "./run-cli.js";

const docker = testDocker();
let dir: string;
let image: string;

// hr-: this suite's runs (hardening, runtime side).
const scenario = (name: string, extra = "") => `name: ${name}
services:
  frontend: { calls: [payments] }
  payments: {}
${extra}
load: { target: frontend, rate: 20, connections: 2, duration: 6s }
faults:
  - { name: pay-abort, kind: abort, target: payments, percent: 50, status: 503, at: 1s, duration: 3s }
checks:
  - { slo: error_rate < 100%, window: whole }
`;

beforeAll(async () => {
  image = await testImage();
  dir = await mkdtemp(join(tmpdir(), "mq-e2e-interrupt-"));
});

interface Trial {
  result: CliResult;
  runId: string | null;
  /** Seconds from the (first) signal to the process's exit. */
  exitAfterS: number;
}

/** Runs `file`, sends `signals` once `when` says so; returns what happened and checks nothing is left. */
async function trial(file: string, when: (stderr: string, child: ChildProcess, fire: () => void) => void, signals: NodeJS.Signals[] = ["SIGINT"]): Promise<Trial> {
  let firedAt = 0;
  const result = await cli(["run", file, "--out", join(dir, "out")], {
    onStderr: (text, child) =>
      when(text, child, () => {
        if (firedAt) return;
        firedAt = Date.now();
        signals.forEach((s, i) => setTimeout(() => child.kill(s), i * 50));
      }),
  });
  const exitAfterS = firedAt ? (Date.now() - firedAt) / 1000 : NaN;
  const runId = /building topology (\S+):/.exec(result.stderr)?.[1] ?? null;
  return { result, runId, exitAfterS };
}

async function expectNothingLeft(t: Trial): Promise<void> {
  expect(t.result.code, t.result.stderr).toBe(130);
  if (t.runId === null) return;
  expect(await labelled(docker, t.runId)).toEqual({ containers: 0, networks: 0 });
  expect(existsSync(join(tmpdir(), `meshquake-${t.runId}`)) || existsSync(`/tmp/meshquake-${t.runId}`)).toBe(false);
}

const afterLine = (line: string, delayMs = 0) => (stderr: string, _child: ChildProcess, fire: () => void) => {
  if (stderr.includes(line)) setTimeout(fire, delayMs);
};

describe("a signal at any moment of a run: exit 130, nothing left", () => {
  it("while a user image builds: the build stops, and no build container stays", async () => {
    const marker = `mq-interrupt-${randomBytes(4).toString("hex")}`;
    const context = join(dir, "slow-build");
    await mkdir(context, { recursive: true });
    await writeFile(join(context, "Dockerfile"), `ARG ${BASE_BUILD_ARG}=debian:bookworm-slim\nFROM \${${BASE_BUILD_ARG}}\nRUN echo ${marker} && sleep 60\n`);
    const file = join(dir, "hr-int-build.yaml");
    await writeFile(file, scenario("hr-int-build").replace("  payments: {}", "  payments: { build: slow-build, port: 8080 }"));
    const t = await trial(file, afterLine("building meshquake/app:", 1500));
    await expectNothingLeft(t);
    expect(t.exitAfterS).toBeLessThan(10);
    const builders = (await docker.listContainers({ all: true })).filter((c) => c.Command.includes(marker));
    expect(builders).toEqual([]);
  });

  it("while the pods are being created", async () => {
    const file = join(dir, "hr-int-create.yaml");
    await writeFile(file, scenario("hr-int-create"));
    const t = await trial(file, afterLine("building topology"), ["SIGTERM"]);
    await expectNothingLeft(t);
  });

  it("while an app is waited for (its health never passes)", async () => {
    const file = join(dir, "hr-int-ready.yaml");
    await writeFile(
      file,
      scenario("hr-int-ready").replace(
        "  payments: {}",
        `  payments: { image: "${image}", port: 8080, command: [node, /opt/meshquake/service/server.js], health: { command: ["false"] } }`,
      ),
    );
    let polling = false;
    const t = await trial(file, (stderr, _child, fire) => {
      const runId = /building topology (\S+):/.exec(stderr)?.[1];
      if (!runId || polling) return;
      polling = true;
      // Fire once the payments app runs: the run is then waiting for it to become ready.
      const poll = async () => {
        const apps = await docker.listContainers({ filters: { label: [`meshquake.run-id=${runId}`, "meshquake.pod=payments-0", "meshquake.role=app"] } });
        if (apps.length) fire();
        else setTimeout(() => void poll(), 100);
      };
      void poll();
    });
    await expectNothingLeft(t);
  });

  it("under load with a fault on; the fault is reverted first", async () => {
    const file = join(dir, "hr-int-load.yaml");
    await writeFile(file, scenario("hr-int-load"));
    const t = await trial(file, afterLine("fault pay-abort set", 300));
    await expectNothingLeft(t);
    expect(t.result.stderr).toMatch(/fault pay-abort off \(teardown\)/);
  });

  it("during the teardown", async () => {
    const file = join(dir, "hr-int-teardown.yaml");
    await writeFile(file, scenario("hr-int-teardown"));
    const t = await trial(file, afterLine("tearing down"), ["SIGTERM"]);
    await expectNothingLeft(t);
  });

  it("twice: the second one hurries the teardown to removing the containers", async () => {
    const file = join(dir, "hr-int-twice.yaml");
    await writeFile(file, scenario("hr-int-twice"));
    const t = await trial(file, afterLine("fault pay-abort set", 300), ["SIGINT", "SIGTERM"]);
    await expectNothingLeft(t);
    expect(t.result.stderr).toContain("SIGTERM again: removing the containers now");
    console.log(`two signals under load: exit ${t.result.code} ${t.exitAfterS.toFixed(2)} s after the first`);
  });

  const randomTrials = Number(process.env.MQ_SIGNAL_TRIALS ?? 0);
  it.runIf(randomTrials > 0)(`${randomTrials} trials at random moments`, async () => {
    const file = join(dir, "hr-int-random.yaml");
    await writeFile(file, scenario("hr-int-random"));
    const rows: string[] = [];
    for (let i = 0; i < randomTrials; i++) {
      const delayMs = Math.round(Math.random() * 13_000);
      const signals: NodeJS.Signals[] = [Math.random() < 0.5 ? "SIGINT" : "SIGTERM"];
      if (Math.random() < 0.25) signals.push(signals[0] === "SIGINT" ? "SIGTERM" : "SIGINT");
      let phase = "starting";
      let latest = "";
      let armed = false;
      const t = await trial(
        file,
        (stderr, _child, fire) => {
          latest = stderr;
          if (armed || !stderr.includes("▶")) return;
          armed = true;
          setTimeout(() => {
            phase = phaseOf(latest);
            fire();
          }, delayMs);
        },
        signals,
      );
      const left = t.runId ? await labelled(docker, t.runId) : { containers: 0, networks: 0 };
      const dirLeft = t.runId !== null && existsSync(`/tmp/meshquake-${t.runId}`);
      const outcome = Number.isNaN(t.exitAfterS) ? `run over before the signal, exit ${t.result.code}` : `exit ${t.result.code} ${t.exitAfterS.toFixed(2)} s after it`;
      rows.push(
        `${String(i + 1).padStart(3)}  +${(delayMs / 1000).toFixed(2).padStart(5)} s  ${signals.join("+").padEnd(15)} ${phase.padEnd(10)} ${outcome}  ` +
          `left: ${left.containers} containers, ${left.networks} networks, ${dirLeft ? 1 : 0} run dirs`,
      );
      expect(t.result.code === 130 || (t.result.code === 0 && Number.isNaN(t.exitAfterS)), t.result.stderr).toBe(true);
      expect(left).toEqual({ containers: 0, networks: 0 });
      expect(dirLeft).toBe(false);
    }
    console.log(`signal trials (delay from the scenario's start line):\n${rows.join("\n")}`);
  }, 40 * randomTrials * 1000);
});

/** Where a run was, by its last progress line. */
function phaseOf(stderr: string): string {
  if (stderr.includes("tearing down")) return "teardown";
  if (stderr.includes("fault pay-abort off")) return "load";
  if (stderr.includes("fault pay-abort set")) return "load+fault";
  if (stderr.includes("load:")) return "load";
  if (stderr.includes("building topology")) return "setup";
  return "starting";
}
