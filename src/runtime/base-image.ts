// The Debian base under meshquake's image. Three ways to get one, cheapest first:
//   1. debian:bookworm-slim is already present locally;
//   2. our own debootstrapped base (meshquake/base:bookworm-<hash>) was made before;
//   3. debian:bookworm-slim can be pulled (a machine with a registry);
//   4. otherwise make it: debootstrap from the machine's Debian mirror, then `docker import`.
// Paths 1 and 3 leave the package installs to images/Dockerfile; path 4 bakes them in so the
// build needs no network at all.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Docker from "dockerode";
import { builtDataPlanes } from "../dataplane/registry.js";
import { streamingClient } from "./docker.js";
import { BASE_PACKAGES_LABEL, IMAGE_LABEL } from "./labels.js";

export const UPSTREAM_BASE = "debian:bookworm-slim";
export const DEBIAN_SUITE = "bookworm";
/**
 * What the mesh image needs from Debian: each data plane's proxy, then what every pod needs (Node
 * for the fixture and the admin relay, the interception's tools). debootstrap includes them, the
 * Dockerfile installs them (its list must match: it is not generated).
 */
export const BASE_PACKAGES: readonly string[] = [...builtDataPlanes().flatMap((p) => p.image.packages), "nodejs", "iproute2", "iptables", "ca-certificates", "procps"];
export const BASE_REPOSITORY = "meshquake/base";

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PULL_IDLE_TIMEOUT_MS = 15_000;
const DEBOOTSTRAP_TIMEOUT_MS = 15 * 60_000;
const APT_TIMEOUT_MS = 10 * 60_000;

export type BaseOrigin = "local" | "debootstrap-cached" | "pulled" | "debootstrap";

export interface BaseImage {
  /** Reference to build FROM: a tag. */
  ref: string;
  /** Image id (sha256:...): part of the mesh image's content hash. */
  id: string;
  origin: BaseOrigin;
}

export interface EnsureBaseImageOptions {
  log: (line: string) => void;
  /** Debian mirror for debootstrap; read from the machine's apt sources when absent. */
  mirror?: string;
  /** Stops a pull, debootstrap or import in progress (what it made so far is removed). */
  signal?: AbortSignal | undefined;
}

export class BaseImageError extends Error {
  override name = "BaseImageError";
}

/** Tag of the debootstrapped base; the hash covers everything that goes into it. */
export function debootstrapBaseTag(): string {
  const recipe = JSON.stringify({ suite: DEBIAN_SUITE, variant: "minbase", packages: [...BASE_PACKAGES].sort() });
  return `${BASE_REPOSITORY}:${DEBIAN_SUITE}-${createHash("sha256").update(recipe).digest("hex").slice(0, 8)}`;
}

export async function ensureBaseImage(docker: Docker, opts: EnsureBaseImageOptions): Promise<BaseImage> {
  const local = await findLocalBase(docker);
  if (local) return local;

  const ownTag = debootstrapBaseTag();
  const pullError = await tryPull(docker, UPSTREAM_BASE, opts.signal);
  opts.signal?.throwIfAborted();
  if (pullError === null) {
    const pulled = await inspectImageId(docker, UPSTREAM_BASE);
    if (pulled) {
      opts.log(`pulled ${UPSTREAM_BASE}`);
      return { ref: UPSTREAM_BASE, id: pulled, origin: "pulled" };
    }
  }
  opts.log(`cannot pull ${UPSTREAM_BASE} (${pullError ?? "not present after pull"}); making ${ownTag} with debootstrap`);
  const id = await debootstrapBase(docker, ownTag, opts);
  return { ref: ownTag, id, origin: "debootstrap" };
}

/** The base already on the engine (ways 1 and 2), or null: looks only, never pulls or makes one. */
export async function findLocalBase(docker: Docker): Promise<BaseImage | null> {
  const upstream = await inspectImageId(docker, UPSTREAM_BASE);
  if (upstream) return { ref: UPSTREAM_BASE, id: upstream, origin: "local" };
  const ownTag = debootstrapBaseTag();
  const own = await inspectImageId(docker, ownTag);
  return own ? { ref: ownTag, id: own, origin: "debootstrap-cached" } : null;
}

export async function inspectImageId(docker: Docker, ref: string): Promise<string | null> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}

/** Returns null on success, else why it failed. Aborts when the daemon goes quiet for too long. */
async function tryPull(docker: Docker, ref: string, signal: AbortSignal | undefined): Promise<string | null> {
  const abort = new AbortController();
  let timer = setTimeout(() => abort.abort(), PULL_IDLE_TIMEOUT_MS);
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => abort.abort(), PULL_IDLE_TIMEOUT_MS);
  };
  try {
    const stream = await streamingClient(docker).pull(ref, { abortSignal: signal ? AbortSignal.any([abort.signal, signal]) : abort.signal });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (event: { error?: string }) => {
          touch();
          if (event.error) reject(new Error(event.error));
        },
      );
    });
    return null;
  } catch (err) {
    if (abort.signal.aborted) return `no progress for ${PULL_IDLE_TIMEOUT_MS / 1000} s`;
    // dockerode prefixes "(HTTP code 500) server error - "; the daemon's own words follow.
    return firstLine(errorMessage(err).replace(/^\(HTTP code \d+\)[^-]*- /, ""));
  } finally {
    clearTimeout(timer);
  }
}

async function debootstrapBase(docker: Docker, tag: string, opts: EnsureBaseImageOptions): Promise<string> {
  if (process.getuid?.() !== 0) {
    throw new BaseImageError(
      `no ${UPSTREAM_BASE} image, no registry to pull it from, and debootstrap needs root. ` +
        `Run scripts/setup.sh as root, or provide a Debian bookworm image tagged ${UPSTREAM_BASE} ` +
        `(docker load -i <file>; docker tag <image> ${UPSTREAM_BASE}).`,
    );
  }
  await ensureDebootstrap(opts.log, opts.signal);
  const mirror = opts.mirror ?? (await debianMirror());
  const dir = await mkdtemp(join(tmpdir(), "meshquake-base-"));
  try {
    const started = performance.now();
    opts.log(`debootstrap ${DEBIAN_SUITE} from ${mirror} (about a minute)`);
    await runTool(
      "debootstrap",
      ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, DEBIAN_SUITE, dir, mirror],
      DEBOOTSTRAP_TIMEOUT_MS,
      undefined,
      opts.signal,
    );
    const bootstrapped = performance.now();
    const id = await importRootfs(docker, dir, tag, opts.signal);
    const done = performance.now();
    opts.log(
      `made ${tag} in ${seconds(done - started)} ` +
        `(debootstrap ${seconds(bootstrapped - started)}, import ${seconds(done - bootstrapped)})`,
    );
    return id;
  } finally {
    await removeRootfs(dir);
  }
}

async function ensureDebootstrap(log: (line: string) => void, signal: AbortSignal | undefined): Promise<void> {
  if (await commandExists("debootstrap")) return;
  if (!(await commandExists("apt-get"))) {
    throw new BaseImageError("debootstrap is not installed and there is no apt-get to install it with");
  }
  log("installing debootstrap (apt-get)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = ["install", "-y", "--no-install-recommends", "debootstrap"];
  try {
    await runTool("apt-get", install, APT_TIMEOUT_MS, env, signal);
  } catch {
    // Usually a fresh machine whose package lists were never fetched.
    signal?.throwIfAborted();
    await runTool("apt-get", ["update"], APT_TIMEOUT_MS, env, signal);
    await runTool("apt-get", install, APT_TIMEOUT_MS, env, signal);
  }
}

/** The machine's Debian mirror, from its apt sources. */
export async function debianMirror(): Promise<string> {
  const files: AptSourceFile[] = [];
  const dir = "/etc/apt/sources.list.d";
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.sort()) {
    if (name.endsWith(".sources") || name.endsWith(".list")) files.push(await readSource(join(dir, name)));
  }
  files.push(await readSource("/etc/apt/sources.list"));
  const mirror = debianMirrorFromAptSources(files);
  if (mirror === null) {
    throw new BaseImageError(
      `no Debian ${DEBIAN_SUITE} mirror found in /etc/apt/sources.list or ${dir}/*.{sources,list}; ` +
        `debootstrap needs one to make the base image`,
    );
  }
  return mirror;
}

async function readSource(path: string): Promise<AptSourceFile> {
  return { name: path, text: await readFile(path, "utf8").catch(() => "") };
}

export interface AptSourceFile {
  /** File name: ".sources" is deb822, anything else one-line style. */
  name: string;
  text: string;
}

/** First `deb` URI serving the given suite itself (not -security or -updates), or null. */
export function debianMirrorFromAptSources(files: AptSourceFile[], suite: string = DEBIAN_SUITE): string | null {
  const entries: { uri: string; suites: string[] }[] = [];
  for (const file of files) {
    if (file.name.endsWith(".sources")) entries.push(...parseDeb822(file.text));
    else entries.push(...parseOneLine(file.text));
  }
  const match = entries.find((e) => e.suites.includes(suite));
  return match ? match.uri.replace(/\/+$/, "") : null;
}

function parseDeb822(text: string): { uri: string; suites: string[] }[] {
  const out: { uri: string; suites: string[] }[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | null = null;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("#")) continue;
      if (/^\s/.test(line) && last !== null) {
        fields.set(last, `${fields.get(last) ?? ""} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const words = (key: string) => (fields.get(key) ?? "").split(/\s+/).filter(Boolean);
    if (!words("types").includes("deb") || fields.get("enabled")?.toLowerCase() === "no") continue;
    for (const uri of words("uris")) out.push({ uri, suites: words("suites") });
  }
  return out;
}

function parseOneLine(text: string): { uri: string; suites: string[] }[] {
  const out: { uri: string; suites: string[] }[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    // deb [arch=amd64 signed-by=...] http://mirror/debian bookworm main
    const match = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (match?.[1] && match[2]) out.push({ uri: match[1], suites: [match[2]] });
  }
  return out;
}

async function importRootfs(docker: Docker, dir: string, tag: string, signal: AbortSignal | undefined): Promise<string> {
  const [repo, version] = tag.split(":") as [string, string];
  const tar = spawn("tar", ["-C", dir, "--numeric-owner", "-c", "."], { stdio: ["ignore", "pipe", "pipe"] });
  let tarErr = "";
  tar.stderr.on("data", (chunk: Buffer) => (tarErr = (tarErr + chunk.toString()).slice(-4000)));
  const tarExit = new Promise<number | null>((resolve) => tar.once("close", resolve));
  const stream = await streamingClient(docker).importImage(tar.stdout, {
    ...(signal ? { abortSignal: signal } : {}),
    repo,
    tag: version,
    changes: [
      `ENV ${PATH_ENV}`,
      `LABEL ${IMAGE_LABEL}=1 ${BASE_PACKAGES_LABEL}=${BASE_PACKAGES.join(",")}`,
      `CMD ["/bin/bash"]`,
    ],
  });
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (event: { error?: string }) => {
        if (event.error) reject(new Error(event.error));
      },
    );
  }).catch((err: unknown) => {
    tar.kill();
    throw new BaseImageError(`docker import of the debootstrapped rootfs failed: ${errorMessage(err)}`);
  });
  const code = await tarExit;
  if (code !== 0) throw new BaseImageError(`tar of the debootstrapped rootfs exited ${code}: ${tarErr.trim()}`);
  const id = await inspectImageId(docker, tag);
  if (id === null) throw new BaseImageError(`docker import finished but ${tag} does not exist`);
  return id;
}

/** debootstrap mounts proc and sys inside the target; never recurse into a live mount. */
async function removeRootfs(dir: string): Promise<void> {
  const mountsUnder = async () =>
    (await readFile("/proc/self/mounts", "utf8").catch(() => ""))
      .split("\n")
      .map((line) => line.split(" ")[1] ?? "")
      .filter((mountPoint) => mountPoint === dir || mountPoint.startsWith(`${dir}/`))
      .sort((a, b) => b.length - a.length);
  for (const mountPoint of await mountsUnder()) {
    await runTool("umount", ["-l", mountPoint], 30_000).catch(() => undefined);
  }
  const left = await mountsUnder();
  if (left.length > 0) {
    throw new BaseImageError(`not removing ${dir}: still mounted: ${left.join(", ")}`);
  }
  await rm(dir, { recursive: true, force: true });
}

async function commandExists(name: string): Promise<boolean> {
  for (const dir of [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"]) {
    if (dir === "") continue;
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** Runs a tool to completion; on failure the error carries its last lines of output. */
function runTool(command: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const started = performance.now();
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...(env ?? process.env), PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
    });
    const lines: string[] = [];
    const keep = (chunk: Buffer) => {
      lines.push(...chunk.toString().split("\n").filter((l) => l.trim() !== ""));
      if (lines.length > 200) lines.splice(0, lines.length - 40);
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
    }, timeoutMs);
    // Interrupted: stop the tool; the caller's cleanup (removeRootfs) runs once it has exited.
    const onAbort = () => child.kill("SIGTERM");
    signal?.addEventListener("abort", onAbort, { once: true });
    const fail = (why: string) =>
      reject(
        new BaseImageError(
          `${command} ${why} after ${seconds(performance.now() - started)}: ${command} ${args.join(" ")}` +
            (lines.length > 0 ? `\nlast lines of its output:\n  ${lines.slice(-15).join("\n  ")}` : ""),
        ),
      );
    child.once("error", (err) => {
      clearTimeout(timer);
      fail(`could not start (${err.message})`);
    });
    child.once("close", (code, killedBy) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      if (code === 0) resolve();
      else if (signal?.aborted) reject(signal.reason);
      else if (timedOut) fail(`timed out (limit ${seconds(timeoutMs)})`);
      else fail(killedBy ? `was killed by ${killedBy}` : `exited with ${code}`);
    });
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(text: string): string {
  return text.split("\n")[0]?.trim() ?? text;
}
