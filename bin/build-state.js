// Whether this copy of meshquake can run from its build (dist/): an installed package always can
// (it has no sources, only dist/); a source checkout can when the build is newer than every source
// file and build setting, so an edit is never hidden behind an old build. `npm run build` writes
// dist/ and then dist/.built, whose time is when that build started.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const BUILD_STAMP = "dist/.built";
const BUILD_INPUTS = ["tsconfig.json", "tsconfig.build.json"];

/** "current": use dist/; "stale": sources changed since the build; "missing": no build. */
export function buildState(root) {
  if (!existsSync(join(root, "dist/cli/main.js"))) return "missing";
  if (!existsSync(join(root, "src"))) return "current";
  let built;
  try {
    built = statSync(join(root, BUILD_STAMP)).mtimeMs;
  } catch {
    return "stale";
  }
  const newer = (path) => statSync(path, { throwIfNoEntry: false })?.mtimeMs > built;
  if (BUILD_INPUTS.some((f) => newer(join(root, f)))) return "stale";
  return newestSource(join(root, "src")) > built ? "stale" : "current";
}

/** The newest modification time among the .ts sources under dir (tests excluded: they are not built). */
function newestSource(dir) {
  let newest = statSync(dir).mtimeMs; // a deleted or renamed file changes its folder
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}
