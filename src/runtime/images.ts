// meshquake's one image: Debian + HAProxy + Node + iptables, the fixture service and the pod and
// HAProxy templates. Its tag is a hash of everything that goes into it, so an unchanged tree
// reuses the image after one inspect, and any change to a fixture or template rebuilds it.
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import { dockerBuild } from "./docker-build.js";
import { tarArchive } from "./tar.js";
import { builtDataPlanes } from "../dataplane/registry.js";
import { ensureBaseImage, findLocalBase, inspectImageId, type BaseImage } from "./base-image.js";
import { IMAGE_LABEL } from "./labels.js";
import { collectFixtureModules } from "./fixture-modules.js";

export const IMAGE_REPOSITORY = "meshquake/mesh";
export const DOCKERFILE = "images/Dockerfile";
/** Folders copied into the image, relative to the project root: the fixture, the pod's scripts, each data plane's support files. */
export const CONTEXT_DIRS: readonly string[] = ["fixtures/service", "images/pod", ...builtDataPlanes().map((p) => p.image.contextDir)];

export interface EnsureImagesOptions {
  log: (line: string) => void;
  projectRoot: string;
  /** Rebuild even when the tag exists, without the build cache. */
  force?: boolean;
  /** Build FROM this local image instead of finding or making a Debian base. */
  base?: string;
  /** Stops a build (or the base's debootstrap) in progress. */
  signal?: AbortSignal | undefined;
}

export interface EnsuredImages {
  /** meshquake/mesh:<12 hex>: what pods run. */
  image: string;
  /** The base it was built FROM. */
  base: string;
  built: boolean;
  ms: number;
}

export interface ContextFile {
  /** POSIX path relative to the project root. */
  path: string;
  /** 0o755 or 0o644. */
  mode: number;
  content: Buffer;
}

export class ImageBuildError extends Error {
  override name = "ImageBuildError";
}

export async function ensureImages(docker: Docker, opts: EnsureImagesOptions): Promise<EnsuredImages> {
  const started = performance.now();
  const base = opts.base === undefined ? await ensureBaseImage(docker, { log: opts.log, signal: opts.signal }) : await givenBase(docker, opts.base);
  opts.signal?.throwIfAborted();
  const files = await collectBuildContext(opts.projectRoot);
  const image = imageTag(files, base.id);
  if (!opts.force && (await inspectImageId(docker, image)) !== null) {
    return { image, base: base.ref, built: false, ms: performance.now() - started };
  }
  opts.log(`building ${image} from ${base.ref}`);
  const buildStarted = performance.now();
  await buildImage(docker, { files, image, base: base.ref, noCache: opts.force ?? false, signal: opts.signal });
  opts.log(`built ${image} in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s`);
  return { image, base: base.ref, built: true, ms: performance.now() - started };
}

export interface FoundImages {
  /** The base on the engine, or null when there is none yet. */
  base: BaseImage | null;
  /** The mesh image's tag for this tree on that base (null without a base). */
  image: string | null;
  /** Whether that image exists. */
  present: boolean;
}

/** What ensureImages would use, looked up without pulling or building anything (`meshquake doctor`). */
export async function findImages(docker: Docker, projectRoot: string): Promise<FoundImages> {
  const base = await findLocalBase(docker);
  if (!base) return { base, image: null, present: false };
  const image = imageTag(await collectBuildContext(projectRoot), base.id);
  return { base, image, present: (await inspectImageId(docker, image)) !== null };
}

async function givenBase(docker: Docker, ref: string): Promise<BaseImage> {
  const id = await inspectImageId(docker, ref);
  if (id === null) throw new ImageBuildError(`base image ${ref} does not exist locally`);
  return { ref, id, origin: "local" };
}

/**
 * The Dockerfile and every file under CONTEXT_DIRS, then the packages the fixture's grpc mode
 * imports (fixture-modules.ts: from the harness's own node_modules, whatever `projectRoot` is),
 * sorted by path.
 */
export async function collectBuildContext(projectRoot: string, opts: { fixtureModules?: boolean } = {}): Promise<ContextFile[]> {
  const paths = [DOCKERFILE];
  for (const dir of CONTEXT_DIRS) paths.push(...(await listFiles(projectRoot, dir)));
  const files: ContextFile[] = await Promise.all(
    paths.map(async (path) => {
      const absolute = join(projectRoot, path);
      const info = await stat(absolute).catch((err: NodeJS.ErrnoException) => {
        throw new ImageBuildError(`cannot read ${path} under ${projectRoot}: ${err.code ?? err.message}`);
      });
      return { path, mode: info.mode & 0o111 ? 0o755 : 0o644, content: await readFile(absolute) };
    }),
  );
  if (opts.fixtureModules !== false) files.push(...fixtureModules());
  return files.sort((a, b) => compareBytes(a.path, b.path));
}

function fixtureModules(): ContextFile[] {
  try {
    return collectFixtureModules();
  } catch (err) {
    throw new ImageBuildError(`the fixture's gRPC modules: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function listFiles(projectRoot: string, dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(join(projectRoot, dir), { withFileTypes: true });
  } catch (err) {
    // An absent folder is an empty one: the context still carries its directory entry.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = `${dir}/${entry.name}`;
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(projectRoot, path))).isDirectory());
    if (isDir) out.push(...(await listFiles(projectRoot, path)));
    else out.push(path);
  }
  return out;
}

/** meshquake/mesh:<first 12 hex of sha256 over the base id and every context file>. */
export function imageTag(files: readonly ContextFile[], baseId: string): string {
  const hash = createHash("sha256").update(`meshquake-image-v1\0${baseId}\0`);
  for (const file of [...files].sort((a, b) => compareBytes(a.path, b.path))) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0${file.content.length}\0`);
    hash.update(file.content);
  }
  return `${IMAGE_REPOSITORY}:${hash.digest("hex").slice(0, 12)}`;
}

async function buildImage(
  docker: Docker,
  args: { files: ContextFile[]; image: string; base: string; noCache: boolean; signal?: AbortSignal | undefined },
): Promise<void> {
  const built = await dockerBuild(docker, {
    context: tarArchive(args.files, ["fixtures", "images", ...CONTEXT_DIRS]),
    tag: args.image,
    dockerfile: DOCKERFILE,
    buildargs: { BASE: args.base },
    labels: { [IMAGE_LABEL]: "1" },
    noCache: args.noCache,
    signal: args.signal,
  });
  const output = built.output;
  if (!built.ok) {
    throw new ImageBuildError(
      `docker build of ${args.image} (${DOCKERFILE}, BASE=${args.base}) failed: ${built.why}` +
        (output.length > 0 ? `\nlast lines of the build:\n  ${output.slice(-15).join("\n  ")}` : ""),
    );
  }
  if ((await inspectImageId(docker, args.image)) === null) {
    throw new ImageBuildError(
      `docker build reported success but ${args.image} does not exist; last lines:\n  ${output.slice(-15).join("\n  ")}`,
    );
  }
}

/**
 * A deterministic ustar archive (fixed owner and mtime) of the given directories and files.
 * Small and dependency-free; file paths longer than 100 bytes use the ustar prefix field.
 */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
