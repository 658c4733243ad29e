import { StringDecoder } from "node:string_decoder";

/**
 * Turns chunks of a byte stream into its non-empty lines, keeping a line cut between two chunks
 * (and a UTF-8 character cut between them) until its end arrives.
 */
export class LineSplitter {
  readonly #decoder = new StringDecoder("utf8");
  #rest = "";

  /** The lines this chunk completes. */
  push(chunk: Buffer): string[] {
    const parts = (this.#rest + this.#decoder.write(chunk)).split("\n");
    this.#rest = parts.pop() ?? "";
    return parts.filter((p) => p !== "");
  }

  /** What is left without its newline, as a last line (none when nothing is). */
  end(): string[] {
    const last = this.#rest + this.#decoder.end();
    this.#rest = "";
    return last ? [last] : [];
  }
}
