// The CLI in-process, for what needs no Docker: exit codes and what reaches the terminal.
import { EventEmitter } from "node:events";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtures } from "../report/fixtures/index.js";
import { serializeReport } from "../report/json.js";
import { main, type CliIo } from "./main.js";

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: {},
    isTTY: false,
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
