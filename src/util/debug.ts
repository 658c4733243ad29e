// Debug lines on stderr, for finding out where a run spends its time or why it waits: Docker calls,
// readiness probe errors, setup step timings. Off unless asked for, with `--verbose` (every
// namespace) or DEBUG as the `debug` package reads it: DEBUG=meshquake:* for all of meshquake's,
// DEBUG=meshquake:docker,meshquake:probe for some, a leading "-" to leave one out.
// Configured once by the CLI; modules that have something to say take a logger for their
// namespace with `debug("meshquake:docker")` and call it freely: a disabled one costs one check.

export type DebugLog = (line: string) => void;

interface DebugState {
  include: RegExp[];
  exclude: RegExp[];
  write: (text: string) => void;
}

let state: DebugState | null = null;

/** Turns debug output on for the namespaces `spec` names (DEBUG syntax), written through `write`; an empty spec turns it off. */
export function configureDebug(spec: string, write: (text: string) => void): void {
  const patterns = spec.split(/[\s,]+/).filter(Boolean);
  const toRegExp = (p: string) => new RegExp(`^${p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
  const include = patterns.filter((p) => !p.startsWith("-")).map(toRegExp);
  const exclude = patterns.filter((p) => p.startsWith("-")).map((p) => toRegExp(p.slice(1)));
  state = include.length ? { include, exclude, write } : null;
}

export function debugEnabled(namespace: string): boolean {
  return state !== null && state.include.some((r) => r.test(namespace)) && !state.exclude.some((r) => r.test(namespace));
}

/** A logger for one namespace; each line is written as "<namespace> <line>". */
export function debug(namespace: string): DebugLog {
  return (line) => {
    if (state && debugEnabled(namespace)) state.write(`${namespace} ${line}\n`);
  };
}
