// The scenario's request mix, interleaved by weight. Smooth weighted round-robin (nginx's
// algorithm): deterministic, exact over every period, and any prefix is within one request of
// the weights — no randomness, so two runs of a scenario send the same sequence.
import type { RequestTemplate } from "../scenario/types.js";

export interface RequestMix {
  next(): RequestTemplate;
}

export function createRequestMix(templates: readonly RequestTemplate[]): RequestMix {
  if (templates.length === 0) throw new RangeError("the request mix needs at least one request");
  for (const t of templates) {
    if (!(t.weight > 0) || !Number.isFinite(t.weight)) {
      throw new RangeError(`request ${t.method} ${t.path}: weight must be a positive number, got ${t.weight}`);
    }
  }
  const total = templates.reduce((sum, t) => sum + t.weight, 0);
  const current = templates.map(() => 0);
  return {
    next() {
      let best = 0;
      for (let i = 0; i < templates.length; i++) {
        current[i]! += templates[i]!.weight;
        if (current[i]! > current[best]!) best = i;
      }
      current[best]! -= total;
      return templates[best]!;
    },
  };
}
