// Where meshquake's own files are (package.json, images/, fixtures/service/, schema/), however it
// runs: from the TypeScript sources (src/util/), from the build (dist/util/), or installed
// (node_modules/meshquake/dist/util/). In each, the package root is two folders above this module.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The package's schema for scenario files (what editors and `meshquake init`'s modeline point at). */
export const SCENARIO_SCHEMA_FILE = join(PACKAGE_ROOT, "schema", "scenario.schema.json");

/** The built-in fixture's gRPC service definition: a gRPC load's proto when the scenario names none. */
export const FIXTURE_PROTO_FILE = join(PACKAGE_ROOT, "fixtures", "service", "meshquake.proto");

let version: string | undefined;

/** meshquake's version, from its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string }).version;
  return version;
}
