// What each container of a pod may use and do. Every one: no new privileges (setuid binaries do
// not raise anything), every capability dropped but what its role needs, memory (no swap beyond
// it) and process limits, and a bounded log. Sized from measurements of the fixture and HAProxy
// under load (docs/architecture.md, "Container limits").
import type Docker from "dockerode";
import type { AppPlan } from "../plan/types.js";

export type PodRole = "proxy" | "app";

const MiB = 1024 ** 2;

/**
 * The proxy container holds the namespace and runs HAProxy (master and one worker thread, Lua);
 * through docker exec, the readiness probes (a short-lived bash each), the fault scripts with their
 * dead-man timers and, where the engine does not share this machine's files, a Node relay for the
 * sidecar's runtime API.
 */
export const PROXY_LIMITS = { memoryBytes: 384 * MiB, pids: 128 };
/**
 * What the proxy container's root needs: NET_ADMIN for the interception rules and the network
 * faults (iptables, tc), SETUID and SETGID to become the sidecar's uid. The sidecar itself keeps
 * none of them (images/pod/pod-init.sh).
 */
export const PROXY_CAPABILITIES = ["NET_ADMIN", "SETGID", "SETUID"];

/** The fixture runs as nobody: it needs no file it does not own and no privilege. */
export const FIXTURE_USER = "65534:65534";

/**
 * A user's image may start as root and step down to its own service user (gosu, su-exec, nginx's
 * master), which needs these; everything else (NET_RAW, MKNOD, SYS_CHROOT, ...) is dropped. A
 * process that is not root does not get them at all. NET_ADMIN is never given: the app must not
 * be able to change the pod's interception rules.
 */
export const USER_IMAGE_CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"];

/**
 * Docker 20.10's json-file follower can lose or repeat lines when a log rotates under it, and the
 * sidecars' access logs are read that way: their limit sits far above a run's usual volume
 * (~0.6 KiB a request a hop), so it bounds a runaway without rotating a normal run.
 */
const LOG_LIMITS: Record<PodRole, { "max-size": string; "max-file": string }> = {
  proxy: { "max-size": "256m", "max-file": "2" },
  app: { "max-size": "10m", "max-file": "2" },
};

/** The HostConfig fields that confine one container of a pod. */
export function confinement(role: PodRole, app?: Pick<AppPlan, "kind" | "resources">): Docker.HostConfig {
  const limits = role === "proxy" ? PROXY_LIMITS : app!.resources;
  const capAdd = role === "proxy" ? PROXY_CAPABILITIES : app!.kind === "user" ? USER_IMAGE_CAPABILITIES : [];
  return {
    CapDrop: ["ALL"],
    ...(capAdd.length ? { CapAdd: capAdd } : {}),
    SecurityOpt: ["no-new-privileges"],
    Memory: limits.memoryBytes,
    MemorySwap: limits.memoryBytes,
    PidsLimit: limits.pids,
    LogConfig: { Type: "json-file", Config: { ...LOG_LIMITS[role] } },
  };
}
