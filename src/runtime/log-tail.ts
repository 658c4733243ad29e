import { open, type FileHandle } from "node:fs/promises";
import { LineSplitter } from "./line-splitter.js";

/**
 * Follows files that other processes append lines to (the sidecars' access logs in the run's host
 * directory), reading what was added since the last look every `intervalMs`, and hands over
 * complete lines in batches. A file that does not exist yet is looked for again next time. No
 * line passes through Docker: the sidecar writes it, this reads it.
 */
export interface TailedFile<K> {
  key: K;
  path: string;
}

export interface FileTail {
  /** Reads to the end of every file once more, hands over the last lines (a final one without its newline too), and stops. */
  stop(): Promise<void>;
  /** Bytes read so far, over every file. */
  bytes(): number;
}

const CHUNK = 256 * 1024;

export function tailFiles<K>(
  files: readonly TailedFile<K>[],
  onLines: (key: K, lines: string[]) => void,
  opts: { intervalMs?: number } = {},
): FileTail {
  const intervalMs = opts.intervalMs ?? 100;
  const states = files.map((f) => ({ file: f, handle: null as FileHandle | null, offset: 0, lines: new LineSplitter() }));
  const buf = Buffer.allocUnsafe(CHUNK);
  let total = 0;
  let stopped = false;

  const readOne = async (s: (typeof states)[number], final: boolean): Promise<void> => {
    if (!s.handle) {
      try {
        s.handle = await open(s.file.path, "r");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
        throw err;
      }
    }
    const lines: string[] = [];
    for (;;) {
      const { bytesRead } = await s.handle.read(buf, 0, CHUNK, s.offset);
      if (bytesRead === 0) break;
      s.offset += bytesRead;
      total += bytesRead;
      lines.push(...s.lines.push(buf.subarray(0, bytesRead)));
      if (bytesRead < CHUNK) break;
    }
    if (final) lines.push(...s.lines.end());
    if (lines.length) onLines(s.file.key, lines);
  };

  const readAll = async (final: boolean) => {
    for (const s of states) await readOne(s, final).catch(() => {});
  };

  let timer: NodeJS.Timeout | null = null;
  let pass: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      pass = readAll(false).then(() => {
        if (!stopped) schedule();
      });
    }, intervalMs);
  };
  schedule();

  return {
    bytes: () => total,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (timer) clearTimeout(timer);
      await pass;
      await readAll(true);
      await Promise.all(states.map((s) => s.handle?.close().catch(() => {})));
    },
  };
}
