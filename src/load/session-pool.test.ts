import { describe, expect, it } from "vitest";
import { MAX_STREAMS_PER_SESSION, SessionPool, streamLimit, type PooledSession } from "./session-pool.js";

const pool = () => new SessionPool<PooledSession & { n: number }>(() => ({ inFlight: 0, limit: MAX_STREAMS_PER_SESSION, n: opened++ }));
let opened = 0;

describe("SessionPool", () => {
  it("opens a second session only when the first has 100 streams in flight, then fills the emptier one", () => {
    const p = pool();
    const first = p.acquire();
    first.inFlight = 99;
    expect(p.acquire()).toBe(first);
    first.inFlight = 100;
    const second = p.acquire();
    expect(second).not.toBe(first);
    expect(p.opened).toBe(2);
    second.inFlight = 5;
    first.inFlight = 3;
    expect(p.acquire()).toBe(first);
  });

  it("a dropped session takes no new stream and still counts as opened; a peer's lower limit is kept", () => {
    const p = pool();
    const first = p.acquire();
    p.drop(first);
    const next = p.acquire();
    expect(next).not.toBe(first);
    expect(p.opened).toBe(2);
    expect(p.live).toEqual([next]);
    next.limit = streamLimit(2);
    next.inFlight = 2;
    expect(p.acquire()).not.toBe(next);
    expect(streamLimit(undefined)).toBe(100);
    expect(streamLimit(1000)).toBe(100);
    expect(streamLimit(0)).toBe(1);
  });
});
