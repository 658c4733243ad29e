// A problem before it has a file position: the validators speak in document paths, and
// load-scenario.ts turns each path into a line and column once, through locate.ts.
import type { DocPath, LocateOptions } from "./locate.js";

export interface Finding extends LocateOptions {
  severity: "error" | "warning";
  path: DocPath;
  message: string;
}

export function error(path: DocPath, message: string, options: LocateOptions = {}): Finding {
  return { severity: "error", path, message, ...options };
}

export function warning(path: DocPath, message: string, options: LocateOptions = {}): Finding {
  return { severity: "warning", path, message, ...options };
}

/** ["faults", 0, "target"] → "faults[0].target"; keys that are not identifiers are quoted. */
export function formatPath(path: DocPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
