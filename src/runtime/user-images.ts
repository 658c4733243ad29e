// The user's images, made ready before the plan: an `image:` must already exist locally (nothing
// is ever pulled: there may be no registry at all), and a `build:` is built here with dockerode
// and tagged meshquake/app:<content hash>, so an unchanged context reuses its image after one
// inspect. Only app containers run these; infra containers and sidecars run the mesh image.
import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, posix, relative, sep } from "node:path";
import type Docker from "dockerode";
import { userClaimsUid } from "../dataplane/sidecar-user.js";
import type { ImageSource, ResolvedService } from "../scenario/types.js";
import { inspectImageId, type BaseImage } from "./base-image.js";
import { pullImage, type PullPolicy } from "./pull-image.js";
import { dockerBuild } from "./docker-build.js";
import { IMAGE_LABEL, USER_IMAGE_LABEL } from "./labels.js";
import { tarArchive, type TarEntry } from "./tar.js";

export const USER_IMAGE_REPOSITORY = "meshquake/app";
/**
 * The build argument meshquake always sets to its local Debian base (a Dockerfile uses it as
 * `ARG MESHQUAKE_BASE=debian:bookworm-slim` + `FROM ${MESHQUAKE_BASE}`), so one Dockerfile builds
 * offline here and from a registry elsewhere. Reserved: meshquake's value wins over the build's.
 */
export const BASE_BUILD_ARG = "MESHQUAKE_BASE";

export class UserImageError extends Error {
  override name = "UserImageError";
}

export interface EnsureUserImagesOptions {
  log: (line: string) => void;
  /** The local Debian base; asked for only when a Dockerfile declares MESHQUAKE_BASE. */
  base: () => Promise<BaseImage>;
  /** Rebuild even when the tag exists, without the build cache. */
  force?: boolean;
  /** Stops a build in progress. */
  signal?: AbortSignal | undefined;
  /** When an `image:` is pulled (default "missing": when it is not here). */
  pull?: PullPolicy;
}

export interface EnsuredUserImages {
  /** Service → the local image its app containers run. */
  images: Record<string, string>;
  /** Tags built by this call (the others were reused). */
  built: string[];
  ms: number;
}

/**
 * Every user image of the scenario, ready locally. Missing `image:` references are all reported
 * at once, each with where the scenario (or compose file) names it.
 */
export async function ensureUserImages(docker: Docker, services: readonly ResolvedService[], opts: EnsureUserImagesOptions): Promise<EnsuredUserImages> {
  const started = performance.now();
  const images: Record<string, string> = {};
  const built: string[] = [];
  const missing: string[] = [];
  const builds = new Map<string, Promise<string>>();
  let base: Promise<BaseImage> | null = null;

  for (const service of services) {
    const user = service.image;
    if (!user) continue;
    const where = `${user.origin.file}:${user.origin.line}:${user.origin.col} services.${service.name}`;
    if (user.source.kind === "image") {
      const ref = user.source.ref;
      const policy = opts.pull ?? "missing";
      const here = (await inspectImageId(docker, ref)) !== null;
      const wayOut = `Build or load it first (docker build -t ${ref} <folder>, or docker load -i <file>), or give the service build: <folder> instead.`;
      if (policy === "always" || (!here && policy === "missing")) {
        const failed = await pullImage(docker, ref, opts.log, opts.signal).then(
          () => null,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        );
        if (failed === null) images[service.name] = ref;
        else if (here) missing.push(`${where}.image: image "${ref}" could not be pulled (--pull always): ${failed}. --pull missing uses the local copy.`);
        else missing.push(`${where}.image: image "${ref}" does not exist locally, and pulling it failed: ${failed}. ${wayOut}`);
      } else if (!here) {
        missing.push(`${where}.image: image "${ref}" does not exist locally, and --pull never forbids pulling it. ${wayOut}`);
      } else {
        images[service.name] = ref;
      }
      continue;
    }
    const source = user.source;
    const key = JSON.stringify(source);
    let build = builds.get(key);
    if (build === undefined) {
      build = (async () => {
        const context = await collectUserContext(source, where);
        const needsBase = context.dockerfileText.includes(BASE_BUILD_ARG);
        base ??= needsBase ? opts.base() : null;
        const baseImage = needsBase ? await base! : null;
        const tag = userImageTag(source, context.files, baseImage?.id ?? null);
        if (!opts.force && (await inspectImageId(docker, tag)) !== null) return tag;
        opts.log(`building ${tag} for ${service.name} from ${join(source.context, source.dockerfile)}`);
        const t0 = performance.now();
        await buildUserImage(docker, { source, files: context.files, tag, base: baseImage?.ref ?? null, noCache: opts.force ?? false, where, signal: opts.signal });
        opts.log(`built ${tag} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        built.push(tag);
        return tag;
      })();
      builds.set(key, build);
    }
    images[service.name] = await build;
  }
  if (missing.length > 0) throw new UserImageError(missing.join("\n"));
  for (const service of services) {
    const image = images[service.name];
    if (!service.image || image === undefined) continue;
    // The image's own USER, by number (a name is only known inside the image: the topology checks
    // the app's processes once it runs).
    const configured = (await docker.getImage(image).inspect()).Config?.User ?? "";
    const user = service.image.user ?? configured;
    if (userClaimsUid(user)) {
      const o = service.image.origin;
      throw new UserImageError(
        `${o.file}:${o.line}:${o.col} services.${service.name}: the app would run as user "${user}", the sidecar's own uid; the pod's ` +
          `interception lets that uid's traffic bypass the mesh, so its calls would not be meshed. Run it as another user (user: in the scenario).`,
      );
    }
  }
  return { images, built, ms: performance.now() - started };
}

/** meshquake/app:<first 12 hex of sha256 over the Dockerfile, args, target, base and every context file>. */
export function userImageTag(source: Extract<ImageSource, { kind: "build" }>, files: readonly TarEntry[], baseId: string | null): string {
  const hash = createHash("sha256").update(`meshquake-user-image-v1\0${source.dockerfile}\0${source.target ?? ""}\0${baseId ?? ""}\0`);
  for (const [k, v] of Object.entries(source.args).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) hash.update(`arg\0${k}\0${v}\0`);
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0${file.content.length}\0${file.linkTarget === undefined ? "" : `link\0${file.linkTarget}\0`}`);
    hash.update(file.content);
  }
  return `${USER_IMAGE_REPOSITORY}:${hash.digest("hex").slice(0, 12)}`;
}

/** The context's files as Docker would send them: .dockerignore applied, the Dockerfile always included. */
export async function collectUserContext(
  source: Extract<ImageSource, { kind: "build" }>,
  where: string,
): Promise<{ files: TarEntry[]; dockerfileText: string }> {
  const root = source.context;
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new UserImageError(`${where}.build: the build context ${root} is not a folder`);
  const dockerfile = posix.normalize(source.dockerfile.split("\\").join("/"));
  if (dockerfile.startsWith("../") || dockerfile.startsWith("/")) {
    throw new UserImageError(`${where}.build: the Dockerfile ${source.dockerfile} must be inside the build context ${root}`);
  }
  const realRoot = await realpath(root);
  const dockerfileText = await readInside(realRoot, join(root, dockerfile), where).catch((e: unknown) => {
    if (e instanceof UserImageError) throw e;
    throw new UserImageError(`${where}.build: no Dockerfile at ${join(root, dockerfile)}`);
  });
  const ignore = dockerIgnore(await readInside(realRoot, join(root, ".dockerignore"), where).catch((e: unknown) => {
    if (e instanceof UserImageError) throw e;
    return "";
  }));
  const paths = await walk(root, "", ignore);
  if (!paths.includes(dockerfile)) paths.push(dockerfile);
  const files: TarEntry[] = [];
  for (const path of paths.sort()) {
    const absolute = join(root, path);
    const s = await lstat(absolute);
    if (s.isSymbolicLink()) files.push({ path, mode: 0o777, content: Buffer.alloc(0), linkTarget: await readlink(absolute) });
    else files.push({ path, mode: s.mode & 0o111 ? 0o755 : 0o644, content: await readFile(absolute) });
  }
  return { files, dockerfileText };
}

/** A file meshquake itself reads from the context (Dockerfile, .dockerignore): it must not lead outside. */
async function readInside(realRoot: string, path: string, where: string): Promise<string> {
  const real = await realpath(path);
  const rel = relative(realRoot, real);
  if (rel.split(sep)[0] === ".." || isAbsolute(rel)) {
    throw new UserImageError(`${where}.build: ${path} is a link that leads outside the build context (to ${real})`);
  }
  return readFile(real, "utf8");
}

async function walk(root: string, dir: string, ignore: DockerIgnore): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(join(root, dir), { withFileTypes: true });
  for (const entry of entries) {
    const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
    // A link is sent as a link (as Docker does), never followed: it cannot bring in a file or a
    // folder from outside the context.
    if (entry.isDirectory()) {
      // An excluded folder is skipped whole unless a later "!pattern" could bring something back.
      if (ignore.excludes(path) && !ignore.hasNegations) continue;
      out.push(...(await walk(root, path, ignore)));
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (!ignore.excludes(path)) out.push(path);
    }
  }
  return out;
}

export interface DockerIgnore {
  excludes(path: string): boolean;
  hasNegations: boolean;
}

/**
 * .dockerignore as Docker reads it: one pattern a line, # comments, "!" re-includes, `*` and `?`
 * within a path segment, `**` across segments; a pattern matching a folder excludes what is in it.
 */
export function dockerIgnore(text: string): DockerIgnore {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+/, "").replace(/\/+$/, "");
      return { negate, re: globToRegExp(pattern) };
    });
  return {
    hasNegations: rules.some((r) => r.negate),
    excludes(path: string): boolean {
      const prefixes = path.split("/").map((_, i, parts) => parts.slice(0, i + 1).join("/"));
      let excluded = false;
      for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negate;
      return excluded;
    },
  };
}

function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      const slash = pattern[i + 2] === "/";
      re += slash ? "(?:.*/)?" : ".*";
      i += slash ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i);
      if (end === -1) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function buildUserImage(
  docker: Docker,
  args: {
    source: Extract<ImageSource, { kind: "build" }>;
    files: TarEntry[];
    tag: string;
    base: string | null;
    noCache: boolean;
    where: string;
    signal?: AbortSignal | undefined;
  },
): Promise<void> {
  const dirs = new Set<string>();
  for (const f of args.files) {
    const parts = f.path.split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  const context = tarArchive(args.files, [...dirs].sort());
  const buildargs = { ...args.source.args, ...(args.base ? { [BASE_BUILD_ARG]: args.base } : {}) };
  const built = await dockerBuild(docker, {
    context,
    tag: args.tag,
    dockerfile: args.source.dockerfile,
    buildargs,
    target: args.source.target ?? undefined,
    labels: { [IMAGE_LABEL]: "1", [USER_IMAGE_LABEL]: "1" },
    noCache: args.noCache,
    signal: args.signal,
  });
  const output = built.output;
  if (!built.ok) {
    const why = built.why;
    const pull = /pull access denied|failed to resolve|dial tcp|lookup .* on|no such host|manifest unknown/i.test(why)
      ? `\n  The Dockerfile's FROM image must exist locally: nothing can be pulled here. Use \`ARG ${BASE_BUILD_ARG}=debian:bookworm-slim\` ` +
        `and \`FROM \${${BASE_BUILD_ARG}}\`: meshquake sets it to its local Debian base.`
      : "";
    throw new UserImageError(
      `${args.where}.build: docker build of ${join(args.source.context, args.source.dockerfile)} failed: ${why}${pull}` +
        (output.length > 0 ? `\n  last lines of the build:\n    ${output.slice(-15).join("\n    ")}` : ""),
    );
  }
  if ((await inspectImageId(docker, args.tag)) === null) {
    throw new UserImageError(`${args.where}.build: docker build reported success but ${args.tag} does not exist; last lines:\n    ${output.slice(-15).join("\n    ")}`);
  }
}
