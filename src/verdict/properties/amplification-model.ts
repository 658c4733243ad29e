// The analytic model of retry amplification. A caller makes up to n tries; each try fails
// independently with probability p. Tries per request: A = min(G, n) with G geometric, so
//   P(A >= k) = p^(k-1),  E[A] = 1 + p + ... + p^(n-1),  E[A^2] = sum_k (2k-1) p^(k-1);
// the request fails only when all n tries fail (p^n), and that is what the hop above sees as
// its callee's failure: a chain composes hop by hop from the bottom, and the tries reaching the
// bottom service per request at the top are the product of the hops' E[A].

/** Expected tries per request at a hop: 1 + p + … + p^(n−1). */
export function expectedAttempts(p: number, n: number): number {
  let sum = 0;
  for (let k = 0; k < n; k++) sum += p ** k;
  return sum;
}

/** Variance of the tries per request at a hop. */
export function attemptsVariance(p: number, n: number): number {
  let second = 0;
  for (let k = 1; k <= n; k++) second += (2 * k - 1) * p ** (k - 1);
  const mean = expectedAttempts(p, n);
  return Math.max(0, second - mean * mean);
}

/** Probability that a request fails at a hop: every one of its n tries failed. */
export function hopFailure(p: number, n: number): number {
  return p ** n;
}

export interface ChainHop {
  /** Caller → callee. */
  from: string;
  to: string;
  /** Tries the caller's policy allows (1: no retries). */
  attempts: number;
}

export interface HopModel extends ChainHop {
  /** Probability that one try at this hop fails (the callee's failure probability). */
  tryFailure: number;
  /** Expected tries at the callee per request from the caller. */
  amplification: number;
  /** Probability that a request from the caller fails at this hop. */
  requestFailure: number;
  /** Expected tries at the callee per request entering the chain at the top (the product above it). */
  perTopRequest: number;
  /** Standard deviation of the tries per request at this hop. */
  sd: number;
}

/**
 * A chain of hops, top first, whose bottom service fails each call independently with
 * `bottomFailure`; `ownErrorRate` gives a service's own failure rate (the fixture fails on its
 * own before making its calls). Returns each hop's model, top first.
 */
export function chainModel(hops: readonly ChainHop[], bottomFailure: number, ownErrorRate: Record<string, number> = {}): HopModel[] {
  const out: HopModel[] = [];
  let calleeFailure = bottomFailure;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!;
    const requestFailure = hopFailure(calleeFailure, hop.attempts);
    out.unshift({
      ...hop,
      tryFailure: calleeFailure,
      amplification: expectedAttempts(calleeFailure, hop.attempts),
      requestFailure,
      perTopRequest: 0,
      sd: Math.sqrt(attemptsVariance(calleeFailure, hop.attempts)),
    });
    const own = ownErrorRate[hop.from] ?? 0;
    calleeFailure = own + (1 - own) * requestFailure;
  }
  // Requests each caller makes per top request: the tries it received, less those it failed on its own.
  let perTop = 1;
  for (const hop of out) {
    perTop *= 1 - (ownErrorRate[hop.from] ?? 0);
    perTop *= hop.amplification;
    hop.perTopRequest = perTop;
  }
  return out;
}
