// Seeds for the per-fault dice in images/haproxy/faults.lua, and a TypeScript mirror of that die
// (splitmix64), so tests and reports can predict exactly which requests a fault hits.
const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

function mix64(z: bigint): bigint {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** Two's-complement 64-bit pattern of a safe integer, as Lua 5.3 holds it. */
function u64(n: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(n));
}

/** FNV-1a (64-bit) of a string's UTF-8 bytes. */
function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(s)) h = ((h ^ BigInt(byte)) * 0x100000001b3n) & MASK64;
  return h;
}

/**
 * The seed a pod's sidecar mixes into every fault's die: the scenario seed and the pod id, so
 * replicas of one service draw independently yet a replay draws the same. Below 2^63, so Lua
 * reads it as an integer.
 */
export function podSeed(scenarioSeed: number, pod: string): bigint {
  return mix64(u64(scenarioSeed) ^ fnv1a64(pod)) >> 1n;
}

/** A fault's own seed when the harness gives none: stable for its name, below 2^53. */
export function defaultFaultSeed(faultName: string): number {
  return Number(fnv1a64(faultName) >> 11n);
}

/**
 * The sequence of draws in [0, 1) that faults.lua makes for one fault in one pod. The fault hits
 * the n-th request it matches when the n-th draw is below its probability (a delay with a range
 * takes one more draw for its length).
 */
export function faultDie(faultSeed: number, pod: bigint): () => number {
  let state = mix64(mix64((u64(faultSeed) + GOLDEN) & MASK64) ^ pod);
  return () => {
    state = (state + GOLDEN) & MASK64;
    return Number(mix64(state) >> 11n) / 2 ** 53;
  };
}
