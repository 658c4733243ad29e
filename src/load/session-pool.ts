// Which HTTP/2 session a gRPC call goes on: the open one with the fewest streams in flight, and a
// new one only when every open session is full (HAProxy, like most servers, takes at most 100
// concurrent streams on one connection). Sessions that fail or are told to go away leave the
// pool; later calls open others. Pure: opening a session is the caller's `open`.

/** HAProxy's default tune.h2.max-concurrent-streams, and what most gRPC servers announce. */
export const MAX_STREAMS_PER_SESSION = 100;

export interface PooledSession {
  /** Streams open on it now. */
  inFlight: number;
  /** The most streams it takes at once: MAX_STREAMS_PER_SESSION, or less when the peer says so. */
  limit: number;
}

export class SessionPool<S extends PooledSession> {
  readonly #open: () => S;
  readonly #live: S[] = [];
  #opened = 0;

  constructor(open: () => S) {
    this.#open = open;
  }

  /** The session the next stream goes on (opened now when every live one is full). */
  acquire(): S {
    let best: S | null = null;
    for (const s of this.#live) if (s.inFlight < s.limit && (best === null || s.inFlight < best.inFlight)) best = s;
    if (best !== null) return best;
    const fresh = this.#open();
    this.#opened++;
    this.#live.push(fresh);
    return fresh;
  }

  /** Takes a session out of the pool (it failed, closed or got GOAWAY): no new stream goes on it. */
  drop(session: S): void {
    const i = this.#live.indexOf(session);
    if (i >= 0) this.#live.splice(i, 1);
  }

  /** Sessions opened since the start, dropped ones included. */
  get opened(): number {
    return this.#opened;
  }

  get live(): readonly S[] {
    return this.#live;
  }
}

/** A session's stream limit from the peer's SETTINGS_MAX_CONCURRENT_STREAMS (undefined: unlimited). */
export function streamLimit(peerMax: number | undefined): number {
  return Math.max(1, Math.min(MAX_STREAMS_PER_SESSION, peerMax ?? MAX_STREAMS_PER_SESSION));
}
