// What `meshquake --help` shows after the commands: exit codes, environment variables, where the docs are.
import { join } from "node:path";
import { EXIT } from "../verdict/verdict.js";
import { OPTION_VARIABLES } from "./env-options.js";

const EXIT_MEANINGS: Record<keyof typeof EXIT, string> = {
  passed: "every check passed",
  failed: "a check failed: the system under test breached it",
  usage: "invalid scenario, command line or environment",
  harness: "harness or infrastructure error (Docker unreachable, a container did not start)",
  inconclusive: "nothing failed, but something was inconclusive (too few requests, a fault that did not land)",
  interrupted: "interrupted (SIGINT/SIGTERM); the topology and faults were removed first",
};

export function helpFooter(packageRoot: string): string {
  const exits = (Object.keys(EXIT) as (keyof typeof EXIT)[]).map((k) => `  ${String(EXIT[k]).padEnd(4)} ${EXIT_MEANINGS[k]}`);
  return [
    "",
    "Exit codes:",
    ...exits,
    "",
    "Environment:",
    `  ${OPTION_VARIABLES.out.padEnd(19)} default for --out (run, report)`,
    `  ${OPTION_VARIABLES.reporter.padEnd(19)} default for --reporter (run, report)`,
    `  ${OPTION_VARIABLES.seed.padEnd(19)} default for --seed (run, plan)`,
    `  ${OPTION_VARIABLES.pull.padEnd(19)} default for --pull (run, up): missing, never or always`,
    "  DOCKER_HOST         the engine: unix:///path or tcp://host:port (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH for TLS)",
    "  NO_COLOR            no colour; FORCE_COLOR=1 colour even when not a terminal (--no-color wins over both)",
    "  DEBUG=meshquake:*   debug lines on stderr (Docker calls, probe errors, step timings), as --verbose",
    "  (flags win over these variables)",
    "",
    `Docs: ${join(packageRoot, "README.md")} and ${join(packageRoot, "docs")}/ (ci.md: meshquake as a CI gate)`,
    "",
  ].join("\n");
}
