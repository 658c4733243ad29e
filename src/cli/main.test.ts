// The CLI in-process, for what needs no Docker: exit codes and what reaches the terminal.
import { EventEmitter } from "node:events";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtures } from "../report/fixtures/index.js";
import { serializeReport } from "../report/json.js";
import { main, type CliIo } from "./main.js";

async function cli(args: string[], over: { env?: NodeJS.ProcessEnv; isTTY?: boolean } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: over.env ?? {},
    isTTY: over.isTTY ?? false,
    signals: new EventEmitter() as unknown as CliIo["signals"],
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const tempDir = () => mkdtemp(join(tmpdir(), "mq-cli-"));

describe("meshquake report takes its exit code from the verdict", () => {
  it("recomputes the verdict from checks and errors when the stored one disagrees, and renders what it says", async () => {
    const dir = await tempDir();
    const report = fixtures.failing();
    const file = join(dir, "report.json");
    await writeFile(file, serializeReport({ ...report, verdict: "passed", exitCode: 0 }));
    const r = await cli(["report", file, "--out", dir, "--reporter", "json,junit"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file} says verdict passed (exit 0), but its checks and errors make it failed (exit 1)`);
    const rendered = JSON.parse(await readFile(join(dir, report.scenario.name, "report.json"), "utf8"));
    expect([rendered.verdict, rendered.exitCode]).toEqual(["failed", 1]);
  });

  it("a report that does not pass the schema exits 2 with located problems, and nothing is written", async () => {
    const dir = await tempDir();
    const report = JSON.parse(serializeReport(fixtures.passing()));
    report.checks[0].status = "fine";
    const file = join(dir, "report.json");
    await writeFile(file, JSON.stringify(report, null, 2));
    const r = await cli(["report", file, "--out", join(dir, "out"), "--reporter", "html"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^${file}:\\d+:\\d+ checks\\[0\\]\\.status: expected one of "passed", "failed", "inconclusive", "error", found "fine"$`, "m"));
  });
});

describe("--data-plane", () => {
  it.each([["plan"], ["run"]])("envoy on a build without it is a usage error (exit 2) for %s, before Docker is touched", async (command) => {
    const r = await cli([command, "scenarios/demo.yaml", "--data-plane", "envoy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("meshquake: --data-plane envoy: this build has no envoy data plane; available: haproxy\n");
  });
});

describe("what reaches the terminal", () => {
  it("a file name or scenario text with escapes and workflow commands is shown escaped", async () => {
    const dir = await tempDir();
    const file = join(dir, "\u001b[2J::error::x.yaml");
    await writeFile(file, 'name: ok\nservices:\n  "a\\u001b[31m\\n::add-mask::b": {}\n');
    const r = await cli(["validate", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(r.stderr).not.toMatch(/^\s*::/m);
    expect(r.stderr).toContain("\\x1b[2J::error::x.yaml");
  });

  it("validate --json keeps the exit code and lists every file", async () => {
    const r = await cli(["validate", "--json", "scenarios/demo.yaml", "fixtures/invalid/06-bad-duration.yaml"]);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as { file: string; valid: boolean }[]).map((v) => [v.file, v.valid])).toEqual([
      ["scenarios/demo.yaml", true],
      ["fixtures/invalid/06-bad-duration.yaml", false],
    ]);
  });
});

describe("imports outside the scenario's folder", () => {
  it("need --allow-outside-imports", async () => {
    const refused = await cli(["validate", "scenarios/compose-demo.yaml"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`topology.compose: "docker-compose.yml" is outside the scenario's folder "scenarios"`);
    const allowed = await cli(["validate", "scenarios/compose-demo.yaml", "--allow-outside-imports"]);
    expect(allowed.code, allowed.stderr).toBe(0);
  });
});

describe("--help", () => {
  it("lists the exit codes, the environment variables and where the docs are", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    for (const code of ["0", "1", "2", "3", "4", "130"]) expect(r.stdout).toMatch(new RegExp(`^  ${code} +\\S`, "m"));
    for (const name of ["MESHQUAKE_OUT", "MESHQUAKE_REPORTER", "MESHQUAKE_SEED", "NO_COLOR", "DEBUG=meshquake:*", "DOCKER_HOST"]) expect(r.stdout).toContain(name);
    expect(r.stdout).toMatch(/^Docs: \/.*README\.md and \/.*docs\/ /m);
    for (const command of ["init", "doctor"]) expect(r.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });
});

describe("options from the environment", () => {
  it("MESHQUAKE_SEED sets plan's seed; --seed wins over it; a bad one is a usage error naming it", async () => {
    const fromEnv = await cli(["plan", "scenarios/demo.yaml", "--no-configs"], { env: { MESHQUAKE_SEED: "5" } });
    expect(fromEnv.stdout).toContain("seed 5)");
    const flag = await cli(["plan", "scenarios/demo.yaml", "--no-configs", "--seed", "7"], { env: { MESHQUAKE_SEED: "5" } });
    expect(flag.stdout).toContain("seed 7)");
    const bad = await cli(["plan", "scenarios/demo.yaml"], { env: { MESHQUAKE_SEED: "soon" } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('meshquake: MESHQUAKE_SEED must be a non-negative integer, found "soon"\n');
  });

  it("MESHQUAKE_OUT and MESHQUAKE_REPORTER choose report's output; flags win over them", async () => {
    const dir = await tempDir();
    const file = join(dir, "in.json");
    const report = fixtures.passing();
    await writeFile(file, serializeReport(report));
    const env = { MESHQUAKE_OUT: join(dir, "env-out"), MESHQUAKE_REPORTER: "junit" };
    const fromEnv = await cli(["report", file], { env });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(fromEnv.stderr).toBe(`artefacts: ${join(dir, "env-out", report.scenario.name, "junit.xml")}\n`);
    const flags = await cli(["report", file, "--out", join(dir, "flag-out"), "--reporter", "json"], { env });
    expect(flags.stderr).toBe(`artefacts: ${join(dir, "flag-out", report.scenario.name, "report.json")}\n`);
    const unknown = await cli(["report", file], { env: { MESHQUAKE_REPORTER: "pdf" } });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('meshquake: unknown reporter "pdf"; known: console, json, html, junit, markdown\n');
  });
});

describe("colour", () => {
  const ESC = "\u001b[";
  const summary = async (args: string[], over: { env?: NodeJS.ProcessEnv; isTTY?: boolean }) => {
    const dir = await tempDir();
    const file = join(dir, "in.json");
    await writeFile(file, serializeReport(fixtures.failing()));
    return (await cli([...args, "report", file, "--out", dir, "--reporter", "console"], over)).stdout;
  };
  it("on a terminal by default; NO_COLOR and --no-color turn it off; FORCE_COLOR turns it on in a pipe", async () => {
    expect(await summary([], { isTTY: true })).toContain(ESC);
    expect(await summary([], { isTTY: false })).not.toContain(ESC);
    expect(await summary([], { isTTY: true, env: { NO_COLOR: "1" } })).not.toContain(ESC);
    expect(await summary([], { isTTY: false, env: { FORCE_COLOR: "1" } })).toContain(ESC);
    expect(await summary(["--no-color"], { isTTY: true, env: { FORCE_COLOR: "1" } })).not.toContain(ESC);
  });
});

describe("meshquake doctor", () => {
  it("without an engine: one line per check, the engine's failure said, exit 1; --verbose shows the Docker call", async () => {
    const r = await cli(["doctor", "--verbose"], { env: { DOCKER_HOST: "unix:///nonexistent/docker.sock", CHROMIUM_PATH: "/nonexistent/chromium" } });
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ["ok", "node"],
      ["fail", "engine"],
      ["fail", "base image"],
      ["fail", "mesh image"],
      ["warn", "browser"],
    ]);
    expect(lines[1]).toContain("unix:///nonexistent/docker.sock unreachable");
    expect(r.stderr).toMatch(/^meshquake:docker GET \/version failed in \d+ ms: .*ENOENT/m);
  });

  it("a DOCKER_HOST it cannot use is a failed engine check saying what is allowed", async () => {
    const r = await cli(["doctor"], { env: { DOCKER_HOST: "ssh://me@host" } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^fail {2}engine {6}DOCKER_HOST="ssh:\/\/me@host": ssh:\/\/ engines are not supported/m);
  });
});
