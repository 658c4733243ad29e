import { pack } from "tar-stream";
import type { FileSpec } from "../plan/types.js";

/** A tar archive of the given files (absolute paths), with their parent directories, for putArchive. */
export async function tarFiles(files: FileSpec[]): Promise<Buffer> {
  const p = pack();
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.replace(/^\//, "").split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  for (const d of [...dirs].sort()) p.entry({ name: `${d}/`, type: "directory", mode: 0o755 });
  for (const f of files) p.entry({ name: f.path.replace(/^\//, ""), mode: 0o644 }, f.content);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
