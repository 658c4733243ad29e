// The sidecars' parsed log of a run, kept on disk instead of in memory, so a run's memory does not
// grow with its traffic. Rows (access-log entries and mesh events, in the order they arrived) are
// appended in blocks: each block is a gzip member of NDJSON, compressed off the main thread,
// written behind a 4-byte length. Reading is synchronous, a block at a time, as often as a reader
// likes: the judge's analyses are plain loops over iterables (src/observe/mesh-rows.ts; arrays in
// unit tests), and each loop holds one block (≤ BLOCK_ROWS rows) besides what it keeps itself.
// The file is a scratch copy (the run's recording is the durable one) and is removed by `dispose`.
import { closeSync, openSync, readSync, rmSync } from "node:fs";
import { mkdtemp, open, writeFile, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync, gzip as gzipCb } from "node:zlib";
import type { MeshRow } from "../observe/mesh-rows.js";

const gzip = promisify(gzipCb);

/** Rows per block: ~250 KB of JSON, so a reader holds little and a write is a few ms of compression. */
export const BLOCK_ROWS = 1000;

export class MeshLogStore implements Iterable<MeshRow> {
  readonly #dir: string;
  readonly #path: string;
  #file: Promise<FileHandle>;
  #pending: string[] = [];
  /** Blocks written in order: each write waits for the one before. */
  #writes: Promise<void> = Promise.resolve();
  #error: Error | null = null;
  #rows = 0;
  #finished = false;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#path = join(dir, "mesh-log.blocks");
    this.#file = open(this.#path, "w");
    // Reported by finish(); an unawaited rejection must not end the process meanwhile.
    this.#file.catch(() => undefined);
  }

  /**
   * A store in a fresh folder `meshquake-log-*` under `parent` (default the system's temporary
   * folder). With `owner` (the harness process, as runs record it), the folder holds an owner file
   * as a run directory does, so `meshquake clean` removes it once that process is gone (a harness
   * killed before it could).
   */
  static async create(opts: { parent?: string; owner?: object } = {}): Promise<MeshLogStore> {
    const dir = await mkdtemp(join(opts.parent ?? tmpdir(), "meshquake-log-"));
    if (opts.owner) await writeFile(join(dir, "owner.json"), `${JSON.stringify({ runId: basename(dir).slice("meshquake-".length), ...opts.owner })}\n`, { mode: 0o600 });
    return new MeshLogStore(dir);
  }

  /** The file the rows are kept in. */
  get path(): string {
    return this.#path;
  }

  get rows(): number {
    return this.#rows;
  }

  /** The first write error, if any: the judge then reads only what reached the disk before it. */
  get error(): Error | null {
    return this.#error;
  }

  append(row: MeshRow): void {
    if (this.#finished) throw new Error("the mesh log is finished: no more rows");
    this.#pending.push(JSON.stringify(row));
    this.#rows++;
    if (this.#pending.length >= BLOCK_ROWS) this.#flush();
  }

  /** Writes what is left; after it the rows can be read. */
  async finish(): Promise<void> {
    if (!this.#finished) {
      this.#finished = true;
      this.#flush();
    }
    await this.#writes;
    await (await this.#file.catch(() => null))?.close().catch(() => undefined);
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending.join("\n");
    this.#pending = [];
    this.#writes = this.#writes.then(async () => {
      if (this.#error) return;
      try {
        const body = await gzip(text, { level: 1 });
        const head = Buffer.alloc(4);
        head.writeUInt32LE(body.length);
        await (await this.#file).write(Buffer.concat([head, body]));
      } catch (err) {
        this.#error = err instanceof Error ? err : new Error(String(err));
      }
    });
  }

  *[Symbol.iterator](): Iterator<MeshRow> {
    if (!this.#finished) throw new Error("the mesh log is read after finish()");
    const fd = openSync(this.#path, "r");
    try {
      const head = Buffer.alloc(4);
      let at = 0;
      for (;;) {
        if (readSync(fd, head, 0, 4, at) < 4) return;
        const size = head.readUInt32LE(0);
        const body = Buffer.alloc(size);
        if (readSync(fd, body, 0, size, at + 4) < size) return;
        at += 4 + size;
        for (const line of gunzipSync(body).toString("utf8").split("\n")) yield JSON.parse(line) as MeshRow;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the file and its folder. */
  dispose(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
