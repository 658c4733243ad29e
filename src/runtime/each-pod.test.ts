import { describe, expect, it } from "vitest";
import { eachPod } from "./each-pod.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("eachPod: pods set up in parallel", () => {
  it("the first failure stops the others before their next engine call, and settles only when every call in flight has", async () => {
    const calls: string[] = [];
    const finished: string[] = [];
    const t0 = Date.now();
    const err = await eachPod([0, 1, 2, 3], undefined, async (i, _index, stop) => {
      if (i === 0) {
        await sleep(10);
        throw new Error("create refused: bad name");
      }
      calls.push(`create ${i}`);
      await sleep(100); // a create in flight when pod 0 fails: waited for, never abandoned
      finished.push(`create ${i}`);
      stop.throwIfAborted();
      calls.push(`start ${i}`);
    }).then(() => new Error("all succeeded"), (e: unknown) => e as Error);
    expect(err.message).toBe("create refused: bad name");
    expect(finished).toEqual(["create 1", "create 2", "create 3"]);
    expect(calls).toEqual(["create 1", "create 2", "create 3"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
  });

  it("an abort from outside (a signal) is what it throws, after the same settling", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("interrupted by SIGINT")), 20);
    let settled = 0;
    const err = await eachPod([1, 2], ac.signal, async (_i, _index, stop) => {
      await sleep(60);
      settled++;
      stop.throwIfAborted();
    }).then(() => new Error("all succeeded"), (e: unknown) => e as Error);
    expect(err.message).toBe("interrupted by SIGINT");
    expect(settled).toBe(2);
  });

  it("returns every result in order when all succeed", async () => {
    expect(await eachPod(["a", "b", "c"], undefined, async (x, i) => `${x}${i}`)).toEqual(["a0", "b1", "c2"]);
  });

  it("runs at most `concurrency` tasks at once, and never begins one after a failure", async () => {
    let running = 0;
    let peak = 0;
    const begun: number[] = [];
    const err = await eachPod(
      [0, 1, 2, 3, 4, 5, 6, 7],
      undefined,
      async (i) => {
        begun.push(i);
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        if (i === 3) throw new Error("pod 3 failed");
      },
      3,
    ).then(() => new Error("all succeeded"), (e: unknown) => e as Error);
    expect(err.message).toBe("pod 3 failed");
    expect(peak).toBe(3);
    expect(begun).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
