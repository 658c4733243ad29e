import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { LineSplitter } from "./line-splitter.js";

/**
 * Follows a container's stdout and stderr from its start, line by line, until stopped. Docker
 * multiplexes both streams on one connection when the container has no TTY; demux them.
 */
export async function followLogs(
  docker: Docker,
  containerId: string,
  onLine: (line: string, stream: "stdout" | "stderr") => void,
): Promise<{ stop(): void; done: Promise<void> }> {
  const raw = (await docker.getContainer(containerId).logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(raw, out, err);
  splitLines(out, (l) => onLine(l, "stdout"));
  splitLines(err, (l) => onLine(l, "stderr"));
  const done = new Promise<void>((resolve) => {
    raw.on("end", resolve);
    raw.on("close", resolve);
    raw.on("error", () => resolve());
  });
  return {
    stop: () => raw.destroy(),
    done,
  };
}

function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  const lines = new LineSplitter();
  stream.on("data", (chunk: Buffer) => {
    for (const l of lines.push(chunk)) onLine(l);
  });
  stream.on("end", () => {
    for (const l of lines.end()) onLine(l);
  });
}

/** The last `n` lines a container wrote, for error messages. */
export async function logTail(docker: Docker, containerId: string, n = 20): Promise<string[]> {
  const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: n, follow: false })) as Buffer;
  return demuxBuffer(buf).split("\n").filter(Boolean).slice(-n);
}

/** Docker's multiplexed log frames: 8-byte header (stream, 0, 0, 0, size as uint32 BE) + payload. */
export function demuxBuffer(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString("utf8");
    i += 8 + size;
  }
  return i === 0 && buf.length > 0 && buf[0]! > 2 ? buf.toString("utf8") : out;
}
