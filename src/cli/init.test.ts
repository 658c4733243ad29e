import { EventEmitter } from "node:events";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SCENARIO_SCHEMA_FILE } from "../util/package-root.js";
import { init, initFiles, INIT_PATHS } from "./init.js";
import type { CliIo } from "./io.js";
import { validateFile } from "./validate.js";

function io(): CliIo & { out: string; err: string } {
  const r = {
    out: "",
    err: "",
    stdout: (s: string) => void (r.out += s),
    stderr: (s: string) => void (r.err += s),
    env: {},
    isTTY: false,
    signals: new EventEmitter() as unknown as CliIo["signals"],
  };
  return r;
}

describe("meshquake init", () => {
  it("writes a starter scenario that validates, with a modeline at the package's schema, and a workflow that runs it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-init-"));
    const out = io();
    expect(await init(dir, { force: false }, out)).toBe(0);
    const scenarioFile = join(dir, INIT_PATHS.scenario);
    const scenario = await readFile(scenarioFile, "utf8");
    const modeline = /^# yaml-language-server: \$schema=(.+)$/.exec(scenario.split("\n")[0]!);
    expect(modeline).not.toBeNull();
    expect(join(dir, "meshquake", modeline![1]!)).toBe(SCENARIO_SCHEMA_FILE);
    const validation = await validateFile(scenarioFile);
    expect(validation.problems).toEqual([]);
    expect(validation.valid).toBe(true);
    const workflow = await readFile(join(dir, INIT_PATHS.workflow), "utf8");
    expect(workflow).toContain(`npx meshquake run ${INIT_PATHS.scenario} --out meshquake-reports`);
    expect(workflow).toContain("actions/upload-artifact");
    expect(workflow).not.toContain("{{");
    const steps = (parse(workflow) as { jobs: { resilience: { steps: { run?: string; uses?: string; if?: string }[] } } }).jobs.resilience.steps;
    expect(steps.at(-1)).toMatchObject({ uses: "actions/upload-artifact@v4", if: "always()" });
    expect(out.out).toContain(`wrote ${scenarioFile}`);
    expect(out.out).toContain(`npx meshquake validate ${scenarioFile}`);
  });

  it("refuses to overwrite (exit 2, naming the files, writing nothing) unless --force", async () => {
    const dir = await mkdtemp(join(tmpdir(), "mq-init-"));
    await mkdir(join(dir, ".github/workflows"), { recursive: true });
    await writeFile(join(dir, INIT_PATHS.workflow), "mine\n");
    const refused = io();
    expect(await init(dir, { force: false }, refused)).toBe(2);
    expect(refused.err).toBe(`meshquake init: ${join(dir, INIT_PATHS.workflow)} already exists; nothing written (--force overwrites)\n`);
    await expect(readFile(join(dir, INIT_PATHS.scenario))).rejects.toThrow(/ENOENT/);
    expect(await init(dir, { force: true }, io())).toBe(0);
    expect(await readFile(join(dir, INIT_PATHS.workflow), "utf8")).toContain("name: meshquake");
  });

  it("the modeline is relative to the scenario's folder, with forward slashes", () => {
    const [scenario] = initFiles("/work/app", { scenario: "# yaml-language-server: $schema={{schema}}\n", workflow: "" }, "/work/app/node_modules/meshquake/schema/scenario.schema.json");
    expect(scenario!.text).toBe("# yaml-language-server: $schema=../node_modules/meshquake/schema/scenario.schema.json\n");
  });
});
