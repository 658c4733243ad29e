// A run's recording: everything the judge reads, written as it arrives, one JSON object a line,
// gzip-compressed (`<out>/<scenario>/recording.ndjson.gz`). NDJSON because every line is a fact
// that arrives on its own (a client request, a sidecar's log line) and users can read it with
// zcat, jq or DuckDB's read_json without meshquake; gzip because access-log lines compress ~10×
// and Node has it built in. `meshquake judge` replays it through the same code a run judges with.
// The layout is documented in docs/recording.md; a change to it bumps RECORDING_VERSION.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import type { FaultTiming } from "../faults/scheduler.js";
import type { LoadResult } from "../load/load-types.js";
import type { ClientSample } from "../observe/client-recorder.js";
import type { HarnessError, RunReport } from "../model/run-report.js";
import type { ResolvedScenario } from "../scenario/types.js";

export const RECORDING_VERSION = 1;
export const RECORDING_FILE = "recording.ndjson.gz";

/** The first line: what ran, as resolved when it ran. */
export interface RecordingStart {
  t: "start";
  version: number;
  runId: string;
  toolVersion: string;
  /** Epoch ms when the run began (set-up included). */
  startedAtEpochMs: number;
  scenario: ResolvedScenario;
  /** The mesh image and the user images the plan named (the plan is rebuilt from these). */
  image: string;
  userImages: Record<string, string>;
}

/** The last line: what the run knew only at its end. */
export interface RecordingEnd {
  t: "end";
  /** Epoch ms of the start of load (0: load never started); every client time counts from it. */
  loadStartEpochMs: number;
  faults: FaultTiming[];
  load: LoadResult | null;
  errors: HarnessError[];
  interrupted: boolean;
  /** The run's infrastructure went away (the engine, a proxy container). */
  lost: boolean;
  timings: RunReport["timings"];
  environment: RunReport["environment"];
}

/** One client request (times in µs from the start of load). */
export type RecordedRequest = { t: "request" } & ClientSample;
/** One line a sidecar wrote (access-log entry or policy event), as written, tagged with its pod. */
export interface RecordedLine {
  t: "line";
  pod: string;
  line: string;
}

export type RecordingLine = RecordingStart | RecordedRequest | RecordedLine | RecordingEnd;

export interface Recording {
  start: RecordingStart;
  requests: ClientSample[];
  lines: Array<{ pod: string; line: string }>;
  /** null when the run ended before writing it (the harness was killed): nothing to judge. */
  end: RecordingEnd | null;
}

export interface RecordingWriter {
  request(sample: ClientSample): void;
  line(pod: string, line: string): void;
  /** Writes the last line and closes the file; resolves once it is on disk. */
  end(end: Omit<RecordingEnd, "t">): Promise<void>;
  /** The first write error, if any (the run goes on; the report says the recording is incomplete). */
  readonly error: Error | null;
}

/** Opens `path` (its folder made) and writes the start line. */
export async function openRecording(path: string, start: Omit<RecordingStart, "t" | "version">): Promise<RecordingWriter> {
  await mkdir(dirname(path), { recursive: true });
  const gzip = createGzip({ level: 6 });
  const file = createWriteStream(path);
  let error: Error | null = null;
  const done = pipeline(gzip, file).catch((err: unknown) => {
    error ??= err instanceof Error ? err : new Error(String(err));
  });
  const write = (obj: RecordingLine) => {
    if (error === null) gzip.write(`${JSON.stringify(obj)}\n`);
  };
  write({ t: "start", version: RECORDING_VERSION, ...start });
  return {
    request: (sample) => write({ t: "request", ...sample }),
    line: (pod, line) => write({ t: "line", pod, line }),
    async end(end) {
      write({ t: "end", ...end });
      gzip.end();
      await done;
    },
    get error() {
      return error;
    },
  };
}

/** Thrown for a file that is not a recording this version can read; says what was wrong. */
export class RecordingError extends Error {
  override name = "RecordingError";
}

/** Where a recording's requests and sidecar lines go as they are read. */
export interface RecordingSink {
  request(sample: ClientSample): void;
  line(pod: string, line: string): void;
}

/** Reads a whole recording into memory (small ones; `streamRecording` holds nothing). */
export async function readRecording(path: string): Promise<Recording> {
  const requests: ClientSample[] = [];
  const lines: Recording["lines"] = [];
  const { start, end } = await streamRecording(path, { request: (s) => requests.push(s), line: (pod, line) => lines.push({ pod, line }) });
  return { start, requests, lines, end };
}

/** The start line alone: what was run, to decide how to judge it before reading the rest. */
export async function readRecordingStart(path: string): Promise<RecordingStart> {
  return (await scan(path, null)).start;
}

/**
 * Reads a recording line by line into `sink`, in the order it was written, keeping nothing.
 * Lines are checked for their kind; a version from the future is refused.
 */
export async function streamRecording(path: string, sink: RecordingSink): Promise<{ start: RecordingStart; end: RecordingEnd | null }> {
  return scan(path, sink);
}

/** `sink` null: stop after the start line. */
async function scan(path: string, sink: RecordingSink | null): Promise<{ start: RecordingStart; end: RecordingEnd | null }> {
  let start: RecordingStart | null = null;
  let end: RecordingEnd | null = null;
  let n = 0;
  const file = createReadStream(path);
  const input = file.pipe(createGunzip());
  // pipe() does not pass the file's own errors (a missing file) on: without this the read would wait forever.
  file.on("error", (err) => input.destroy(err));
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      n++;
      if (text === "") continue;
      let obj: RecordingLine;
      try {
        obj = JSON.parse(text) as RecordingLine;
      } catch {
        throw new RecordingError(`${path}:${n}: not a JSON line`);
      }
      if (n === 1) {
        if (obj.t !== "start") throw new RecordingError(`${path}:1: a recording starts with a "start" line, found ${JSON.stringify(obj.t)}`);
        if (obj.version > RECORDING_VERSION) {
          throw new RecordingError(`${path}: recording version ${obj.version} is newer than this meshquake reads (${RECORDING_VERSION}); use a newer meshquake`);
        }
        start = obj;
        if (sink === null) break;
        continue;
      }
      switch (obj.t) {
        case "request": {
          const { t: _t, ...sample } = obj;
          sink!.request(sample);
          break;
        }
        case "line":
          sink!.line(obj.pod, obj.line);
          break;
        case "end":
          end = obj;
          break;
        default:
          throw new RecordingError(`${path}:${n}: unknown line kind ${JSON.stringify((obj as { t: unknown }).t)}`);
      }
    }
  } catch (err) {
    if (err instanceof RecordingError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new RecordingError(`${path}: no such recording`);
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR") throw new RecordingError(`${path}: not a gzip file, or cut short (${(err as Error).message})`);
    throw err;
  } finally {
    input.destroy();
    file.destroy();
  }
  if (!start) throw new RecordingError(`${path}: empty recording`);
  return { start, end };
}
