import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AccessLogEntry, MeshEvent } from "../dataplane/types.js";
import type { MeshRow } from "../observe/mesh-rows.js";
import { meshRows, select } from "../observe/mesh-rows.js";
import { removeStaleRunDirs } from "../runtime/run-dir.js";
import { BLOCK_ROWS, MeshLogStore } from "./mesh-log-store.js";

const entry = (i: number): AccessLogEntry => ({
  ts: 1_700_000_000_000 + i,
  pod: `checkout-${i % 2}`,
  direction: i % 3 === 0 ? "inbound" : "outbound",
  route: "payments",
  from: "checkout",
  upstream: "payments-0",
  status: i % 7 === 0 ? 503 : 200,
  durationMs: i % 11,
  retries: 0,
  termination: "----",
  fault: null,
  requestId: `checkout-0.${i}`,
});
const readmission = (i: number): MeshEvent => ({ kind: "readmission", ts: 1_700_000_000_000 + i, pod: "checkout-0", route: "payments", replica: i % 3 });

describe("the mesh log store", () => {
  it("gives back every row, in order, over several blocks, as often as it is read", async () => {
    const rows: MeshRow[] = Array.from({ length: BLOCK_ROWS * 2 + 17 }, (_, i) => (i % 10 === 0 ? readmission(i) : entry(i)));
    const store = await MeshLogStore.create();
    try {
      for (const r of rows) store.append(r);
      await store.finish();
      expect(store.error).toBeNull();
      expect(store.rows).toBe(rows.length);
      expect([...store]).toEqual(rows);
      expect([...store]).toEqual(rows);
      // The judge's views over it, as over an array.
      const fromStore = meshRows(store);
      const fromArray = meshRows(rows);
      expect([...fromStore.entries]).toEqual([...fromArray.entries]);
      expect(select(fromStore.events, (e) => e.kind === "readmission").length).toBe(Math.ceil(rows.length / 10));
    } finally {
      store.dispose();
    }
  });

  it("is read only once finished, takes no rows after, and leaves nothing on disk when disposed", async () => {
    const store = await MeshLogStore.create();
    store.append(entry(1));
    expect(() => [...store]).toThrow(/after finish/);
    await store.finish();
    expect(() => store.append(entry(2))).toThrow(/finished/);
    expect([...store]).toHaveLength(1);
    const dir = dirname(store.path);
    expect(existsSync(store.path)).toBe(true);
    store.dispose();
    expect(existsSync(dir)).toBe(false);
  });
});


describe("a store left behind", () => {
  it("carries its harness as a run directory does, so `meshquake clean` removes it once that process is gone", async () => {
    const parent = await mkdtemp(join(tmpdir(), "mq-log-parent-"));
    try {
      const store = await MeshLogStore.create({ parent, owner: { pid: 999_999, host: "this-host", started: "boot:1" } });
      const gone = { host: "this-host", startedOf: () => null };
      const alive = { host: "this-host", startedOf: () => "boot:1" };
      expect(await removeStaleRunDirs({ base: parent, processes: alive })).toEqual([]);
      expect(existsSync(store.path)).toBe(true);
      expect(await removeStaleRunDirs({ base: parent, processes: gone })).toEqual([basename(dirname(store.path)).slice("meshquake-".length)]);
      expect(existsSync(dirname(store.path))).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});
