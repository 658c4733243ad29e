// The packages the fixture's grpc mode imports (fixtures/service/grpc-server.js), for the mesh
// image: the runtime dependency closure of @grpc/grpc-js and @grpc/proto-loader, taken from the
// harness's own installed node_modules and laid out under fixtures/service/node_modules/ as Node
// resolves them (a package nested under another stays nested), so the image's Node 18 finds them
// from /opt/meshquake/service/. Only `dependencies` are followed; type declarations, source maps,
// TypeScript sources and @types packages are left out, since nothing loads them at run time.
// Synchronous on purpose: every `meshquake run` hashes these ~450 files, and one thread reading them
// in a row takes a fraction of the time that as many concurrent fs.promises reads take.
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURE_PACKAGES: readonly string[] = ["@grpc/grpc-js", "@grpc/proto-loader"];
/** Where the packages go in the build context. */
export const FIXTURE_MODULES_DIR = "fixtures/service/node_modules";

const HERE = dirname(fileURLToPath(import.meta.url));
const SKIPPED_FILE = /(\.d\.[cm]?ts|\.ts|\.map|\.md)$/i;

export interface ModuleFile {
  /** POSIX path in the build context, under FIXTURE_MODULES_DIR. */
  path: string;
  mode: number;
  content: Buffer;
}

interface Placed {
  /** The package's folder on disk (real path). */
  dir: string;
  /** Its place under FIXTURE_MODULES_DIR ("@grpc/grpc-js", "@grpc/grpc-js/node_modules/long"). */
  at: string;
}

export class FixtureModulesError extends Error {
  override name = "FixtureModulesError";
}

/** Every file of the packages' closure, sorted by path; `from` is where resolution starts (the harness's own folder). */
export function collectFixtureModules(packages: readonly string[] = FIXTURE_PACKAGES, from = HERE): ModuleFile[] {
  return placePackages(packages, from)
    .flatMap((p) => packageFiles(p))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The closure, each package where npm put it: hoisted to the top, or nested under the package that needs that version. */
function placePackages(roots: readonly string[], from: string): Placed[] {
  const topByName = new Map<string, string | null>(); // name → the real dir the harness resolves
  const placedDirs = new Map<string, Placed>(); // `${at}` → placement
  const queue: { name: string; from: string; parentAt: string | null; wanted: string }[] = roots.map((name) => ({ name, from, parentAt: null, wanted: "the harness" }));
  while (queue.length > 0) {
    const { name, from: start, parentAt, wanted } = queue.shift()!;
    if (name.startsWith("@types/")) continue;
    const dir = findPackage(name, start);
    if (dir === null) throw new FixtureModulesError(`cannot find ${name} (a dependency of ${wanted}) in node_modules above ${start}: run npm install`);
    // At the top when it is the version the harness itself resolves (hoisted), else under its dependent.
    if (!topByName.has(name)) topByName.set(name, findPackage(name, from));
    const at = topByName.get(name) === dir || parentAt === null ? name : `${parentAt}/node_modules/${name}`;
    if (placedDirs.has(at)) continue;
    placedDirs.set(at, { dir, at });
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) queue.push({ name: dep, from: dir, parentAt: at, wanted: name });
  }
  return [...placedDirs.values()];
}

/** Node's lookup: <dir>/node_modules/<name>, then each parent's, from `start` up. */
function findPackage(name: string, start: string): string | null {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return null;
  }
}

function packageFiles(pkg: Placed): ModuleFile[] {
  return listPackage(pkg.dir).map((path) => ({
    path: `${FIXTURE_MODULES_DIR}/${pkg.at}/${relative(pkg.dir, path).split(sep).join("/")}`,
    mode: 0o644,
    content: readFileSync(path),
  }));
}

/** The package's files, without node_modules folders (those packages are placed on their own). */
function listPackage(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : listPackage(path);
    return entry.isFile() && !SKIPPED_FILE.test(entry.name) ? [path] : [];
  });
}
