// `meshquake init [dir]`: a starter scenario and a GitHub Actions workflow that runs it as a gate,
// from the package's templates/init/. Never overwrites a file unless --force.
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { PACKAGE_ROOT, SCENARIO_SCHEMA_FILE } from "../util/package-root.js";
import { safeText } from "../util/safe-text.js";
import { EXIT } from "../verdict/verdict.js";
import type { CliIo } from "./io.js";

/** Where init writes, relative to the project folder (the workflow runs from there). */
export const INIT_PATHS = {
  scenario: "meshquake/starter.yaml",
  workflow: ".github/workflows/meshquake.yml",
} as const;

const TEMPLATES = { scenario: "templates/init/scenario.yaml", workflow: "templates/init/workflow.yml" } as const;

export interface InitFile {
  /** Relative to the project folder, with "/". */
  path: string;
  text: string;
}

/**
 * The files for a project in `dir`, from the templates' text: the scenario's modeline points at
 * `schemaFile` relative to the scenario (editors resolve it so), the workflow runs the scenario.
 */
export function initFiles(dir: string, templates: { scenario: string; workflow: string }, schemaFile: string): InitFile[] {
  const scenarioDir = dirname(join(dir, INIT_PATHS.scenario));
  const schema = relative(scenarioDir, schemaFile).split(sep).join("/");
  return [
    { path: INIT_PATHS.scenario, text: templates.scenario.replaceAll("{{schema}}", schema) },
    { path: INIT_PATHS.workflow, text: templates.workflow.replaceAll("{{scenario}}", INIT_PATHS.scenario) },
  ];
}

export async function init(dir: string, o: { force: boolean }, io: CliIo): Promise<number> {
  const read = (path: string) => readFile(join(PACKAGE_ROOT, path), "utf8");
  const files = initFiles(dir, { scenario: await read(TEMPLATES.scenario), workflow: await read(TEMPLATES.workflow) }, SCENARIO_SCHEMA_FILE);
  const shown = (f: InitFile) => join(dir, f.path);
  if (!o.force) {
    const existing = [];
    for (const f of files) if (await exists(join(dir, f.path))) existing.push(shown(f));
    if (existing.length) {
      io.stderr(`meshquake init: ${existing.join(" and ")} already exist${existing.length === 1 ? "s" : ""}; nothing written (--force overwrites)\n`);
      return EXIT.usage;
    }
  }
  for (const f of files) {
    await mkdir(dirname(join(dir, f.path)), { recursive: true });
    await writeFile(join(dir, f.path), f.text);
    io.stdout(safeText(`wrote ${shown(f)}\n`));
  }
  const scenario = shown(files[0]!);
  const commands: [string, string][] = [
    [`npx meshquake validate ${scenario}`, "check it (exit 0: valid)"],
    ["npx meshquake doctor", "check this machine can run it (Docker engine, images)"],
    [`npx meshquake run ${scenario}`, "run it: exit 0 when every check holds; reports in reports/starter/"],
  ];
  const width = Math.max(...commands.map(([c]) => c.length));
  const next = [
    "",
    "Next:",
    ...commands.map(([c, what]) => `  ${c.padEnd(width)}   ${what}`),
    "  Add meshquake to the project's devDependencies: the workflow runs `npm ci`, then `npx meshquake`.",
    `  Commit both files: every pull request is then gated on the scenario.`,
    "",
  ];
  io.stdout(safeText(next.join("\n")));
  return EXIT.passed;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return false;
      throw err;
    },
  );
}
