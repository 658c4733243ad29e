// Common options from the environment, for CI jobs and shells where adding flags is awkward. A flag
// given on the command line wins over its variable, which wins over the built-in default; a
// variable set to the empty string counts as unset.
import { PULL_POLICIES, type PullPolicy } from "../runtime/pull-image.js";
import { UsageError } from "./usage-error.js";

export const OPTION_VARIABLES = {
  out: "MESHQUAKE_OUT",
  reporter: "MESHQUAKE_REPORTER",
  seed: "MESHQUAKE_SEED",
  pull: "MESHQUAKE_PULL",
} as const;

export type EnvOption = keyof typeof OPTION_VARIABLES;

/** The flag's value, else the variable's, else the fallback. */
export function optionValue(flag: string | undefined, env: NodeJS.ProcessEnv, option: EnvOption, fallback: string): string {
  return flag ?? envValue(env, option) ?? fallback;
}

/** --seed, else MESHQUAKE_SEED (checked as --seed is), else none: the scenario's own. */
export function seedValue(flag: number | undefined, env: NodeJS.ProcessEnv): number | undefined {
  if (flag !== undefined) return flag;
  const raw = envValue(env, "seed");
  if (raw === undefined) return undefined;
  const seed = parseSeed(raw);
  if (seed === null) throw new UsageError(`${OPTION_VARIABLES.seed} must be a non-negative integer, found "${raw}"`);
  return seed;
}

/** A seed as --seed and MESHQUAKE_SEED take it, or null when it is not a non-negative integer. */
export function parseSeed(raw: string): number | null {
  const n = Number(raw);
  return raw.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function envValue(env: NodeJS.ProcessEnv, option: EnvOption): string | undefined {
  const raw = env[OPTION_VARIABLES[option]];
  return raw === undefined || raw === "" ? undefined : raw;
}

/** --pull, else MESHQUAKE_PULL (one of PULL_POLICIES), else "missing". */
export function pullValue(flag: PullPolicy | undefined, env: NodeJS.ProcessEnv): PullPolicy {
  if (flag !== undefined) return flag;
  const raw = envValue(env, "pull");
  if (raw === undefined) return "missing";
  if (!(PULL_POLICIES as readonly string[]).includes(raw)) throw new UsageError(`${OPTION_VARIABLES.pull} must be one of ${PULL_POLICIES.join(", ")}, found "${raw}"`);
  return raw as PullPolicy;
}
