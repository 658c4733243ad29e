// A minimal, deterministic ustar writer: the same files give the same bytes (so image builds
// reuse their cache), and no dependency is needed for the two archives we send to Docker
// (a build context, and a sidecar's files for putArchive).
import type { FileSpec } from "../plan/types.js";

export interface TarEntry {
  /** POSIX path inside the archive, no leading slash. */
  path: string;
  /** 0o755 or 0o644. */
  mode: number;
  content: Buffer;
  /**
   * A symbolic link, archived as a link to this target (content empty), as Docker sends one in
   * a build context: never followed, so a link cannot bring a file from outside the context.
   */
  linkTarget?: string;
}

export function tarArchive(files: readonly TarEntry[], directories: readonly string[] = []): Buffer {
  const blocks: Buffer[] = [];
  for (const dir of directories) blocks.push(tarHeader(`${dir}/`, 0o755, 0, "5"));
  for (const file of files) {
    if (file.linkTarget !== undefined) {
      blocks.push(tarHeader(file.path, 0o777, 0, "2", file.linkTarget));
      continue;
    }
    blocks.push(tarHeader(file.path, file.mode, file.content.length, "0"), file.content);
    const padding = (512 - (file.content.length % 512)) % 512;
    if (padding > 0) blocks.push(Buffer.alloc(padding));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function tarHeader(path: string, mode: number, size: number, type: "0" | "2" | "5", linkTarget = ""): Buffer {
  if (Buffer.byteLength(linkTarget) > 100) throw new Error(`link target too long for the build context archive: ${path} -> ${linkTarget}`);
  const header = Buffer.alloc(512);
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf("/", path.length - 2);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
    if (cut <= 0 || Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) {
      throw new Error(`path too long for the build context archive: ${path}`);
    }
  }
  const octal = (value: number, width: number) => `${value.toString(8).padStart(width - 1, "0")}\0`;
  header.write(name, 0, 100, "utf8");
  header.write(octal(mode, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii");
  header.write(octal(0, 8), 116, "ascii");
  header.write(octal(size, 12), 124, "ascii");
  header.write(octal(0, 12), 136, "ascii");
  header.write("        ", 148, "ascii");
  header.write(type, 156, "ascii");
  header.write(linkTarget, 157, 100, "utf8");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  header.write("root", 265, "ascii");
  header.write("root", 297, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return header;
}


/** A sidecar's files (absolute paths) with their parent directories, for putArchive at "/". */
export function tarFiles(files: FileSpec[]): Buffer {
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.path.replace(/^\//, "").split("/").slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
  }
  return tarArchive(
    files.map((f) => ({ path: f.path.replace(/^\//, ""), mode: 0o644, content: Buffer.from(f.content, "utf8") })),
    [...dirs].sort(),
  );
}
