// Puts the run's mesh credentials (src/tls/certificates.ts) where each pod's sidecar reads them:
// SIDECAR_TLS_DIR, the tls/ folder of the pod's directory in the run directory, which only that
// pod's sidecar mounts. The CA's private key is never written: it lives in memory while the pod
// certificates are made. Everything goes with the run directory.
import { chmod, chown, mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { SIDECAR_TLS_CA, SIDECAR_TLS_CERT, SIDECAR_TLS_DIR, type ExecutionPlan } from "../plan/types.js";
import type { RunDir } from "./run-dir.js";

export interface CredentialOptions {
  /** The sidecars' uid: as root, each file is handed to it and readable by it alone. */
  sidecarUid: number;
  now?: Date;
}

/**
 * Writes a certificate for every pod the plan gives one (PodPlan.mtls) into its directory, before
 * its sidecar starts. As root: the files are the sidecar's, mode 0600 (its own uid may read its
 * key, nobody else). Otherwise this process cannot hand them over, so they are readable by all
 * (0644), in a pod directory that is inside the run directory (0700, this user's): no other local
 * user reaches them, and no other container mounts them. Returns how many pods got one.
 */
export async function writePodCredentials(runDir: RunDir, plan: ExecutionPlan, opts: CredentialOptions): Promise<number> {
  const pods = plan.pods.map((pod, index) => ({ pod, index })).filter(({ pod }) => pod.mtls);
  if (pods.length === 0) return 0;
  // Loaded only for a run with mTLS: the certificate library costs ~170 ms to load.
  const { createMeshCertificates } = await import("../tls/certificates.js");
  const certs = await createMeshCertificates({ runId: plan.runId, now: opts.now ?? new Date(), pods: pods.map(({ pod }) => ({ service: pod.service, index: pod.index })) });
  const asRoot = process.getuid?.() === 0;
  await Promise.all(
    pods.map(async ({ index }, k) => {
      const dir = join(await runDir.podDir(index), basename(SIDECAR_TLS_DIR));
      await mkdir(dir, { mode: 0o700 });
      const files: Array<[string, string]> = [
        [join(dir, basename(SIDECAR_TLS_CERT)), certs.pods[k]!.pem],
        [join(dir, basename(SIDECAR_TLS_CA)), certs.caPem],
      ];
      for (const [path, content] of files) await writeFile(path, content, { mode: asRoot ? 0o600 : 0o644 });
      if (asRoot) {
        for (const path of [dir, ...files.map(([p]) => p)]) await chown(path, opts.sidecarUid, opts.sidecarUid);
      } else {
        await chmod(dir, 0o755);
      }
    }),
  );
  return pods.length;
}
