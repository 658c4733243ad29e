// `meshquake clean`: what runs whose harness is gone left behind, and with --images older images.
import { cleanImages, cleanOrphans, type KeptRun } from "../runtime/clean.js";
import { connectDocker } from "../runtime/docker.js";
import { ensureImages } from "../runtime/images.js";
import { PACKAGE_ROOT } from "../util/package-root.js";
import { safeText } from "../util/safe-text.js";
import { EXIT } from "../verdict/verdict.js";
import type { CliIo } from "./io.js";

export async function clean(o: { all: boolean; images: boolean }, io: CliIo): Promise<number> {
  const out = (s: string) => io.stdout(safeText(s));
  const { docker } = await connectDocker(io.env);
  const r = await cleanOrphans(docker, { all: o.all });
  out(`removed ${r.containers.length} container(s), ${r.networks.length} network(s) and ${r.runDirs.length} run director${r.runDirs.length === 1 ? "y" : "ies"}\n`);
  for (const k of r.kept) out(`kept ${k.runId}: ${keptBecause(k)}; --all removes it\n`);
  for (const e of r.errors) io.stderr(`could not remove ${e}\n`);
  if (o.images) {
    const current = await ensureImages(docker, { projectRoot: PACKAGE_ROOT, log: (l) => io.stderr(`${l}\n`) });
    const images = await cleanImages(docker, [current.image]);
    out(`removed ${images.removed.length} unused image(s)${images.removed.length ? `: ${images.removed.join(", ")}` : ""}\n`);
    for (const e of images.errors) io.stderr(`could not remove ${e}\n`);
    r.errors.push(...images.errors);
  }
  return r.errors.length ? EXIT.harness : EXIT.passed;
}

function keptBecause(k: KeptRun): string {
  if (k.owner === null) return "it records no owner (made by an older meshquake, or by hand), so it may still be running";
  if (k.state === "alive") return `its harness (pid ${k.owner.pid}) is still running`;
  return `its harness ran on ${k.owner.host} (pid ${k.owner.pid}), which cannot be checked from here`;
}
