// `meshquake images`: build the mesh image when its content changed; a signal cancels the build (exit 130).
import { connectDocker } from "../runtime/docker.js";
import { ensureImages } from "../runtime/images.js";
import { PACKAGE_ROOT } from "../util/package-root.js";
import { safeText } from "../util/safe-text.js";
import { EXIT } from "../verdict/verdict.js";
import { interruptions } from "./interruptions.js";
import type { CliIo } from "./io.js";

export async function images(o: { force: boolean }, io: CliIo): Promise<number> {
  const stop = interruptions(io);
  try {
    const { docker } = await connectDocker(io.env);
    const r = await ensureImages(docker, { projectRoot: PACKAGE_ROOT, force: o.force, log: (l) => io.stderr(`${l}\n`), signal: stop.signal });
    io.stdout(safeText(`${r.image}${r.built ? ` (built in ${(r.ms / 1000).toFixed(1)} s)` : " (up to date)"}\n`));
    return EXIT.passed;
  } catch (err) {
    if (!stop.signal.aborted) throw err;
    return EXIT.interrupted;
  } finally {
    stop.dispose();
  }
}
