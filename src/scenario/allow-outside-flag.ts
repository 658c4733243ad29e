// The flag that lets a scenario import files from outside its own folder (see import-boundary.ts),
// on its own so the CLI can name it without loading the scenario parser.
export const ALLOW_OUTSIDE_FLAG = "--allow-outside-imports";
