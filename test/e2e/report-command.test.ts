// `meshquake report <report.json>` as a user runs it: re-renders artefacts from a report alone,
// exits with the report's own exit code, and refuses bad input with exit 2 and a message that
// names what was wrong. No Docker: DOCKER_HOST points nowhere, so touching it would fail.
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../src/report/fixtures/index.js";
import type { RunReport } from "../../src/model/run-report.js";
import { cli } from "./run-cli.js";

/** Re-rendering must not need Docker: point it at an engine that does not exist, outside GitHub Actions. */
const cliNoDocker = (args: string[]) =>
  cli(args, { env: { DOCKER_HOST: "unix:///nonexistent/meshquake-no-docker.sock", GITHUB_ACTIONS: undefined, GITHUB_STEP_SUMMARY: undefined } });


async function reportFile(report: RunReport | string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), "mq-report-cmd-"));
  const file = join(dir, "report.json");
  await writeFile(file, typeof report === "string" ? report : JSON.stringify(report, null, 2));
  return { dir, file };
}

const listing = (dir: string) => readdir(dir, { recursive: true }).catch(() => [] as string[]);

describe("meshquake report", () => {
  it.each([
    ["passing", 0],
    ["failing", 1],
    ["inconclusive", 4],
  ] as const)("re-renders a %s run's HTML and JUnit without Docker and exits %i, the report's own code", async (name, code) => {
    const report = fixtures[name]();
    expect(report.exitCode).toBe(code);
    const { dir, file } = await reportFile(report);
    const out = join(dir, "out");
    const r = await cliNoDocker(["report", file, "--out", out, "--reporter", "html,junit"]);
    expect(r.code, r.stderr).toBe(code);
    expect((await listing(out)).sort()).toEqual([report.scenario.name, `${report.scenario.name}/junit.xml`, `${report.scenario.name}/report.html`]);
    const page = await readFile(join(out, report.scenario.name, "report.html"), "utf8");
    expect(page).toContain(`data-verdict="${report.verdict}"`);
    expect(page).toContain('data-chart="share" data-service="payments"');
    const junit = await readFile(join(out, report.scenario.name, "junit.xml"), "utf8");
    expect(junit).toContain(`<testsuite name="${report.scenario.name}" tests="${report.checks.length}"`);
    expect(r.stderr).toContain(join(out, report.scenario.name, "report.html"));
  });

  it("re-renders a report written before per-second mesh series existed", async () => {
    const { dir, file } = await reportFile(fixtures.legacy());
    const r = await cliNoDocker(["report", file, "--out", dir, "--reporter", "html"]);
    expect(r.code, r.stderr).toBe(0);
    const page = await readFile(join(dir, fixtures.legacy().scenario.name, "report.html"), "utf8");
    expect(page).toContain('id="mesh-absent"');
  });

  it("a corrupt report.json exits 2, names the file and says what is wrong, without a stack trace", async () => {
    const text = JSON.stringify(fixtures.failing());
    const { dir, file } = await reportFile(text.slice(0, text.length / 2));
    const r = await cliNoDocker(["report", file, "--out", join(dir, "out"), "--reporter", "html,junit"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
    expect(await listing(join(dir, "out"))).toEqual([]);
  });

  it("a JSON file that is not a meshquake report exits 2 and names the file", async () => {
    const { file } = await reportFile(JSON.stringify({ hello: "world" }));
    const r = await cliNoDocker(["report", file, "--reporter", "html"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file} is not a meshquake report`);
  });

  it("an unknown reporter exits 2, lists the known ones and writes nothing", async () => {
    const { dir, file } = await reportFile(fixtures.passing());
    for (const reporter of ["bogus", "html,bogus"]) {
      const r = await cliNoDocker(["report", file, "--out", join(dir, "out"), "--reporter", reporter]);
      expect(r.code, `--reporter ${reporter}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/unknown reporter "bogus"; known: console, json, html, junit, markdown/);
    }
    expect(await listing(join(dir, "out"))).toEqual([]);
  });
});
