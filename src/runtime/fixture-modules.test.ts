import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectFixtureModules } from "./fixture-modules.js";

let root = "";
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

async function pkg(dir: string, name: string, dependencies: Record<string, string> = {}, files: Record<string, string> = {}) {
  await mkdir(join(root, dir), { recursive: true });
  await writeFile(join(root, dir, "package.json"), JSON.stringify({ name, dependencies, devDependencies: { never: "1" } }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(root, dir, path, ".."), { recursive: true });
    await writeFile(join(root, dir, path), text);
  }
}

describe("collectFixtureModules", () => {
  it("follows dependencies, keeps a nested version nested, and leaves out types, maps and sources", async () => {
    root = await mkdtemp(join(tmpdir(), "meshquake-modules-"));
    await pkg("node_modules/@x/a", "@x/a", { b: "1", c: "2", "@types/node": "*" }, { "build/index.js": "a", "build/index.d.ts": "t", "build/index.js.map": "m", "src/index.ts": "s" });
    await pkg("node_modules/b", "b", { c: "1" }, { "index.js": "b" });
    await pkg("node_modules/c", "c", {}, { "index.js": "c1" });
    await pkg("node_modules/@x/a/node_modules/c", "c", {}, { "index.js": "c2" });
    await pkg("node_modules/@types/node", "@types/node", {}, { "index.d.ts": "t" });
    await mkdir(join(root, "app/lib"), { recursive: true });
    const files = collectFixtureModules(["@x/a"], join(root, "app/lib"));
    const at = (p: string) => `fixtures/service/node_modules/${p}`;
    expect(files.map((f) => [f.path, f.content.toString()])).toEqual([
      [at("@x/a/build/index.js"), "a"],
      [at("@x/a/node_modules/c/index.js"), "c2"],
      [at("@x/a/node_modules/c/package.json"), expect.any(String)],
      [at("@x/a/package.json"), expect.any(String)],
      [at("b/index.js"), "b"],
      [at("b/package.json"), expect.any(String)],
      [at("c/index.js"), "c1"],
      [at("c/package.json"), expect.any(String)],
    ]);
  });

  it("names a dependency it cannot find", async () => {
    root = await mkdtemp(join(tmpdir(), "meshquake-modules-"));
    await pkg("node_modules/a", "a", { gone: "1" });
    expect(() => collectFixtureModules(["a"], root)).toThrow(/cannot find gone \(a dependency of a\)/);
  });
});
