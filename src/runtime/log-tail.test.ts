import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LineSplitter } from "./line-splitter.js";
import { tailFiles } from "./log-tail.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("LineSplitter", () => {
  it("keeps a line, and a UTF-8 character, cut between chunks until the rest arrives; drops empty lines", () => {
    const s = new LineSplitter();
    const bytes = Buffer.from("a\n\nb€c\nd", "utf8");
    const cut = bytes.indexOf(Buffer.from("€")) + 1; // inside the 3-byte euro sign
    expect(s.push(bytes.subarray(0, cut))).toEqual(["a"]);
    expect(s.push(bytes.subarray(cut))).toEqual(["b€c"]);
    expect(s.end()).toEqual(["d"]);
    expect(s.end()).toEqual([]);
  });
});

describe("tailFiles: the sidecars' access logs, read as they grow", () => {
  let dir = "";
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it("hands over each file's new complete lines in batches, waits for a file that does not exist yet, and flushes a last partial line on stop", async () => {
    dir = await mkdtemp(join(tmpdir(), "mq-tail-"));
    const got: Array<[string, string[]]> = [];
    const tail = tailFiles([{ key: "a", path: join(dir, "a.log") }, { key: "b", path: join(dir, "b.log") }], (k, lines) => got.push([k, lines]), { intervalMs: 10 });
    await appendFile(join(dir, "a.log"), "one\ntwo\nthr");
    await sleep(60);
    await appendFile(join(dir, "a.log"), "ee\n");
    await appendFile(join(dir, "b.log"), "late\npartial");
    await sleep(60);
    await tail.stop();
    const of = (k: string) => got.filter(([key]) => key === k).flatMap(([, lines]) => lines);
    expect(of("a")).toEqual(["one", "two", "three"]);
    expect(of("b")).toEqual(["late", "partial"]);
    expect(got.every(([, lines]) => lines.length > 0)).toBe(true);
    expect(tail.bytes()).toBe("one\ntwo\nthree\n".length + "late\npartial".length);
  });
});
