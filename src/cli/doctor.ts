// `meshquake doctor`: whether this machine can run scenarios, one line per check. Exit 0 when every
// required check passes, 1 otherwise. Looks only: it never pulls, builds or starts anything.
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { connectDocker, describeEndpoint, parseDockerHost } from "../runtime/docker.js";
import { findImages } from "../runtime/images.js";
import { PACKAGE_ROOT } from "../util/package-root.js";
import { safeText } from "../util/safe-text.js";
import { message, type CliIo } from "./io.js";

export type CheckStatus = "ok" | "fail" | "warn";

export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

/** The oldest Node meshquake runs on (package.json "engines"). */
export const MIN_NODE_MAJOR = 20;
/** Where the browser tests look for Chromium unless CHROMIUM_PATH says otherwise. */
export const DEFAULT_CHROMIUM = "/usr/bin/chromium";

export function nodeCheck(version: string): DoctorCheck {
  const major = Number(version.replace(/^v/, "").split(".")[0]);
  return major >= MIN_NODE_MAJOR
    ? { name: "node", status: "ok", detail: `${version}` }
    : { name: "node", status: "fail", detail: `${version}: meshquake needs Node ${MIN_NODE_MAJOR} or later` };
}

/** A browser is optional: only the HTML report's browser tests use one; a report opens in any browser. */
export function browserCheck(path: string, executable: boolean): DoctorCheck {
  return executable
    ? { name: "browser", status: "ok", detail: `${path} (for the HTML report's browser tests)` }
    : { name: "browser", status: "warn", detail: `no Chromium at ${path} (optional: only the HTML report's browser tests need one; set CHROMIUM_PATH)` };
}

export function renderChecks(checks: readonly DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => `${c.status.padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}\n`).join("");
}

export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

export async function doctor(io: CliIo): Promise<number> {
  const chromium = io.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  const checks = [nodeCheck(process.version), ...(await engineChecks(io.env)), browserCheck(chromium, await isExecutable(chromium))];
  io.stdout(safeText(renderChecks(checks)));
  return doctorExitCode(checks);
}

const BUILDS_IT = "`meshquake images` builds it (and `meshquake run` does before its first run)";

/** The engine, then the base image and the mesh image on it (not checked without an engine). */
async function engineChecks(env: NodeJS.ProcessEnv): Promise<DoctorCheck[]> {
  const withoutEngine = (err: unknown): DoctorCheck[] => [
    { name: "engine", status: "fail", detail: message(err) },
    { name: "base image", status: "fail", detail: "not checked: no engine" },
    { name: "mesh image", status: "fail", detail: "not checked: no engine" },
  ];
  let where: string;
  let connected;
  try {
    where = describeEndpoint(parseDockerHost(env));
    connected = await connectDocker(env);
  } catch (err) {
    return withoutEngine(err);
  }
  const engine: DoctorCheck = { name: "engine", status: "ok", detail: `Docker ${connected.version} at ${where}` };
  try {
    const found = await findImages(connected.docker, PACKAGE_ROOT);
    if (!found.base) {
      return [
        engine,
        { name: "base image", status: "fail", detail: "none yet: `meshquake images` pulls debian:bookworm-slim, or makes one with debootstrap" },
        { name: "mesh image", status: "fail", detail: `not built: ${BUILDS_IT}` },
      ];
    }
    return [
      engine,
      { name: "base image", status: "ok", detail: `${found.base.ref}` },
      found.present
        ? { name: "mesh image", status: "ok", detail: `${found.image} (current)` }
        : { name: "mesh image", status: "fail", detail: `${found.image} not built: ${BUILDS_IT}` },
    ];
  } catch (err) {
    return [engine, { name: "images", status: "fail", detail: `could not look: ${message(err)}` }];
  }
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}
