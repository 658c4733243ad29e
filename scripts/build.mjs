// `npm run build` (and `prepare`): src/ → dist/ with tsc (tsconfig.build.json), from an empty dist/,
// then dist/.built stamped with the time the build started: bin/build-state.js compares the sources
// against it, so an edit made during a build still counts as newer.
import { spawnSync } from "node:child_process";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const started = new Date();
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (r.status !== 0) process.exit(r.status ?? 1);
const stamp = join(root, "dist", ".built");
writeFileSync(stamp, "");
utimesSync(stamp, started, started);
