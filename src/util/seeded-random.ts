/**
 * mulberry32: a small, fast, deterministic PRNG giving floats in [0, 1). Used wherever a result
 * must be the same on every run for the same seed (bootstrap intervals, synthetic fixtures).
 * The fixture service carries its own copy: it runs as plain JavaScript inside the image.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
