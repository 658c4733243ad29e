// Whether meshquake paints its output with ANSI colour. Decided once, in this order:
//   --no-color                    never;
//   FORCE_COLOR                   set: colour, unless it is "0" or "false" (Node's own reading);
//   NO_COLOR                      set and not empty: never (https://no-color.org);
//   TERM=dumb                     never;
//   otherwise                     only when stdout is a terminal.

export interface ColorInputs {
  /** commander's `color` option: false after --no-color. */
  flag: boolean | undefined;
  env: NodeJS.ProcessEnv;
  isTTY: boolean;
}

export function useColor({ flag, env, isTTY }: ColorInputs): boolean {
  if (flag === false) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if ((env.NO_COLOR ?? "") !== "") return false;
  if (env.TERM === "dumb") return false;
  return isTTY;
}
