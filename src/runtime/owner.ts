// Which harness process owns a run, so `meshquake clean` can tell a leftover (its harness is gone)
// from a run still going on (in another terminal, another CI job on the same engine). A pid alone
// is not enough: pids are reused, so the process's start time (field 22 of /proc/<pid>/stat, in
// clock ticks since boot) and the boot id go with it.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { OWNER_HOST_LABEL, OWNER_PID_LABEL, OWNER_STARTED_LABEL } from "./labels.js";

export interface RunOwner {
  pid: number;
  host: string;
  /** "<boot id>:<start time in ticks>", or "" where /proc cannot say (not Linux). */
  started: string;
}


/** What the machine says about itself and its processes; injected so the decision is testable. */
export interface ProcessTable {
  host: string;
  /** The `started` of a live process, "" when unknown, null when no such process. */
  startedOf(pid: number): string | null;
}

export const localProcesses: ProcessTable = {
  host: hostname(),
  startedOf(pid) {
    const boot = readText("/proc/sys/kernel/random/boot_id")?.trim();
    const stat = readText(`/proc/${pid}/stat`);
    if (stat === null) return processExists(pid) ? "" : null;
    const ticks = startTicks(stat);
    return boot && ticks ? `${boot}:${ticks}` : "";
  },
};

/** This process, as an owner. */
export function currentOwner(processes: ProcessTable = localProcesses): RunOwner {
  return { pid: process.pid, host: processes.host, started: processes.startedOf(process.pid) ?? "" };
}

export function ownerLabels(owner: RunOwner): Record<string, string> {
  return { [OWNER_PID_LABEL]: String(owner.pid), [OWNER_HOST_LABEL]: owner.host, [OWNER_STARTED_LABEL]: owner.started };
}

/** The owner recorded on a container or network; null for one made before owners were recorded. */
export function ownerFromLabels(labels: Record<string, string> | undefined): RunOwner | null {
  const pid = Number(labels?.[OWNER_PID_LABEL]);
  const host = labels?.[OWNER_HOST_LABEL];
  if (!Number.isInteger(pid) || pid <= 0 || !host) return null;
  return { pid, host, started: labels?.[OWNER_STARTED_LABEL] ?? "" };
}

export type OwnerState = "alive" | "gone" | "elsewhere" | "unknown";

/**
 * "alive": the very process still runs here (same pid, same start); "gone": it does not;
 * "elsewhere": it ran on another host, which cannot be checked from here; "unknown": the run
 * recorded no owner (made by a meshquake before owners were recorded, or by a test by hand).
 */
export function ownerState(owner: RunOwner | null, processes: ProcessTable = localProcesses): OwnerState {
  if (owner === null) return "unknown";
  if (owner.host !== processes.host) return "elsewhere";
  const started = processes.startedOf(owner.pid);
  if (started === null) return "gone";
  // Without a start time on either side the pid is all there is: assume it is still that process.
  if (owner.started === "" || started === "") return "alive";
  return started === owner.started ? "alive" : "gone";
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses. */
export function startTicks(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state), so field 22 is fields[19].
  const ticks = fields[19];
  return ticks && /^\d+$/.test(ticks) ? ticks : null;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
