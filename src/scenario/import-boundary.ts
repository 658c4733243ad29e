// Files a scenario pulls in (a compose file, its env_file and .env, Istio resources, build
// contexts) stay inside the scenario's folder unless the user allows more with
// --allow-outside-imports: a scenario from a pull request must not copy the harness's
// environment (/proc/self/environ), keys or configs into an app it then runs.
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { ALLOW_OUTSIDE_FLAG } from "./allow-outside-flag.js";
import { ReadRefusedError, type FileReader } from "./source-file.js";

export { ALLOW_OUTSIDE_FLAG };

export interface BoundaryOptions {
  /** Files outside the scenario's folder may be imported (--allow-outside-imports). */
  allowOutsideImports?: boolean | undefined;
  /**
   * The path with every symbolic link resolved, or null when it does not exist (readScenario
   * passes fs.realpathSync). Without it, paths are compared as written.
   */
  realPath?: ((path: string) => string | null) | undefined;
}

/** Where the scenario refers to another file: relative to the scenario's own folder, unless absolute. */
export function referencedPath(scenarioFile: string, ref: string): string {
  return isAbsolute(ref) ? ref : join(dirname(scenarioFile), ref);
}

export class ImportBoundary {
  private readonly folder: string;

  constructor(
    scenarioFile: string,
    private readonly options: BoundaryOptions = {},
  ) {
    this.folder = dirname(scenarioFile);
  }

  /** Why `path` may not be imported, or null when it may. */
  check(path: string): string | null {
    if (this.options.allowOutsideImports) return null;
    const unless = `meshquake imports only files inside it unless ${ALLOW_OUTSIDE_FLAG} is given`;
    const folder = resolve(this.folder);
    if (!isInside(folder, resolve(path))) return `${JSON.stringify(path)} is outside the scenario's folder ${JSON.stringify(this.folder)}; ${unless}`;
    const real = this.options.realPath?.(path) ?? null;
    const realFolder = this.options.realPath?.(folder) ?? folder;
    if (real !== null && !isInside(realFolder, real)) {
      return `${JSON.stringify(path)} is a link that leads outside the scenario's folder ${JSON.stringify(this.folder)} (to ${real}); ${unless}`;
    }
    return null;
  }

  /** `read`, refusing (ReadRefusedError) every file `check` refuses. */
  guard(read: FileReader): FileReader {
    return (path) => {
      const why = this.check(path);
      if (why !== null) throw new ReadRefusedError(why);
      return read(path);
    };
  }
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === "" || (rel.split(sep)[0] !== ".." && !isAbsolute(rel));
}
