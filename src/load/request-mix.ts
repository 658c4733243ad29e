// The scenario's request mix, interleaved by weight. Smooth weighted round-robin (nginx's
// algorithm): deterministic, exact over every period, and any prefix is within one request of
// the weights — no randomness, so two runs of a scenario send the same sequence.
import type { RequestTemplate } from "../scenario/types.js";

export interface RequestMix {
  next(): RequestTemplate;
}

export function createRequestMix(templates: readonly RequestTemplate[]): RequestMix {
  for (const t of templates) {
    if (!(t.weight > 0) || !Number.isFinite(t.weight)) {
      throw new RangeError(`request ${t.method} ${t.path}: weight must be a positive number, got ${t.weight}`);
    }
  }
  const next = weightedIndexes(templates.map((t) => t.weight));
  return { next: () => templates[next()]! };
}

/** Indexes into `weights`, interleaved by weight (smooth weighted round-robin). */
export function weightedIndexes(weights: readonly number[]): () => number {
  if (weights.length === 0) throw new RangeError("the request mix needs at least one request");
  if (weights.length === 1) return () => 0;
  const total = weights.reduce((sum, w) => sum + w, 0);
  const current = weights.map(() => 0);
  return () => {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i]! += weights[i]!;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    return best;
  };
}
