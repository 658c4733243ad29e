// A command line or environment meshquake cannot act on: printed as one line, exit 2.
export class UsageError extends Error {
  override name = "UsageError";
}
