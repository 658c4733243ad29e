import type { ResolvedService, ResolvedVersion } from "./types.js";

/** The version a replica of `service` runs, or null for a service without versions. */
export function versionOf(service: Pick<ResolvedService, "versions">, index: number): ResolvedVersion | null {
  return service.versions?.find((v) => v.replicas.includes(index)) ?? null;
}
