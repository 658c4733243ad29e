// A run's own directory on the host: <tmp>/meshquake-<run id>/, made at run start, removed by the
// run's teardown and, for a run whose harness is gone, by `meshquake clean`. Each pod gets a
// subdirectory that only its sidecar mounts (at SIDECAR_RUN_DIR): the sidecar's admin socket lives
// there, reachable from this machine and from no other container (the app shares the sidecar's
// network namespace, not its mounts). The run directory itself is 0700 and owned by the harness's
// user, so no other local user gets in either.
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownerState, type ProcessTable, type RunOwner } from "./owner.js";

export const RUN_DIR_PREFIX = "meshquake-";
/** Where a sidecar sees its pod's directory. */
export const SIDECAR_RUN_DIR = "/run/meshquake";
export const ADMIN_SOCKET_NAME = "admin.sock";
/** A unix socket path must fit sun_path (108 bytes with its terminating NUL). */
export const SOCKET_PATH_MAX = 107;
const OWNER_FILE = "owner.json";

export interface RunDir {
  path: string;
  /** The pod's directory (made on first use), mounted into its sidecar at SIDECAR_RUN_DIR. */
  podDir(podIndex: number): Promise<string>;
  /** The sidecar's admin socket, as this machine reaches it. */
  adminSocket(podIndex: number): string;
  remove(): Promise<void>;
}

export interface RunDirOptions {
  /** Where run directories go; default the system's temporary directory, or /tmp when that is too long for socket paths. */
  base?: string;
  /** The uid the sidecars run as: each pod directory is handed to it (when this process may chown). */
  sidecarUid: number;
  /** Pods in the run: every socket path must fit. */
  pods: number;
}

export class RunDirError extends Error {
  override name = "RunDirError";
}

/** The base directory for run directories: the system's temporary directory, unless socket paths would not fit under it. */
export function runDirBase(runId: string, pods: number, base: string = tmpdir()): string {
  return socketPathLength(base, runId, pods) <= SOCKET_PATH_MAX ? base : "/tmp";
}

function socketPathLength(base: string, runId: string, pods: number): number {
  return Buffer.byteLength(join(base, `${RUN_DIR_PREFIX}${runId}`, `p${Math.max(0, pods - 1)}`, ADMIN_SOCKET_NAME));
}

export async function createRunDir(runId: string, owner: RunOwner, opts: RunDirOptions): Promise<RunDir> {
  const base = opts.base ?? runDirBase(runId, opts.pods);
  const length = socketPathLength(base, runId, opts.pods);
  if (length > SOCKET_PATH_MAX) {
    throw new RunDirError(`run directory under ${base} is too deep: its admin socket paths would be ${length} bytes (at most ${SOCKET_PATH_MAX}); use a shorter temporary directory`);
  }
  const path = join(base, `${RUN_DIR_PREFIX}${runId}`);
  await mkdir(path, { mode: 0o700 });
  await chmod(path, 0o700);
  await writeFile(join(path, OWNER_FILE), `${JSON.stringify({ runId, ...owner })}\n`, { mode: 0o600 });
  const asRoot = process.getuid?.() === 0;
  const made = new Map<number, Promise<string>>();
  return {
    path,
    podDir(podIndex) {
      let dir = made.get(podIndex);
      if (!dir) {
        const p = join(path, `p${podIndex}`);
        dir = (async () => {
          await mkdir(p, { mode: 0o700 });
          // The sidecar (another uid) creates its socket here. As root: hand the directory to it.
          // Otherwise it must be writable by all; the run directory's 0700 still keeps others out.
          if (asRoot) await chown(p, opts.sidecarUid, opts.sidecarUid);
          else await chmod(p, 0o777);
          return p;
        })();
        made.set(podIndex, dir);
      }
      return dir;
    },
    adminSocket: (podIndex) => join(path, `p${podIndex}`, ADMIN_SOCKET_NAME),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/**
 * Removes the run directories under `base` whose harness is gone (all of them with `all`), except
 * `keep` (runs a caller knows are alive); returns the run ids removed.
 */
export async function removeStaleRunDirs(
  opts: { base?: string; all?: boolean; keep?: ReadonlySet<string>; processes?: ProcessTable } = {},
): Promise<string[]> {
  // Without a base: both places createRunDir may have used.
  const bases = opts.base ? [opts.base] : [...new Set([tmpdir(), "/tmp"])];
  const removed: string[] = [];
  for (const dir of bases) {
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(RUN_DIR_PREFIX))) {
      const runId = name.slice(RUN_DIR_PREFIX.length);
      if (opts.keep?.has(runId)) continue;
      const owner = await readOwner(join(dir, name));
      // Only directories this code made: an owner file that names the run.
      if (owner === null || owner.runId !== runId) continue;
      if (!opts.all && ownerState(owner, opts.processes) !== "gone") continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(runId);
    }
  }
  return removed;
}

async function readOwner(dir: string): Promise<(RunOwner & { runId: string }) | null> {
  try {
    const o = JSON.parse(await readFile(join(dir, OWNER_FILE), "utf8")) as Partial<RunOwner & { runId: string }>;
    if (typeof o.pid !== "number" || typeof o.host !== "string" || typeof o.runId !== "string") return null;
    return { pid: o.pid, host: o.host, started: typeof o.started === "string" ? o.started : "", runId: o.runId };
  } catch {
    return null;
  }
}
