// A split between versions as proxy weights: each replica of a version gets an equal part of its
// version's share. Proxies weigh servers with small integers (HAProxy: 0..256), so the shares are
// scaled to make the heaviest replica 256: rounding moves a share by at most 1/512 of it.
export const MAX_WEIGHT = 256;

/**
 * Weight per replica, in the order given, for `split` (version → fraction, summing to 1); a
 * version the split leaves out gets 0. Without a split every replica weighs the same (1).
 */
export function splitWeights(replicas: readonly { version?: string | undefined }[], split: Readonly<Record<string, number>> | null | undefined): number[] {
  if (!split) return replicas.map(() => 1);
  const counts = new Map<string, number>();
  for (const r of replicas) if (r.version !== undefined) counts.set(r.version, (counts.get(r.version) ?? 0) + 1);
  const shares = replicas.map((r) => (r.version === undefined ? 0 : (split[r.version] ?? 0) / counts.get(r.version)!));
  const top = Math.max(...shares);
  if (!(top > 0)) return replicas.map(() => 0);
  return shares.map((s) => (s === 0 ? 0 : Math.max(1, Math.round((s / top) * MAX_WEIGHT))));
}
