// The reporters' names, apart from the reporters themselves: the CLI checks and lists them without
// loading any renderer (src/report/reporters.ts must have exactly these).
export const REPORTER_NAMES = ["console", "json", "html", "junit", "markdown"] as const;

export type ReporterName = (typeof REPORTER_NAMES)[number];

/** The names in a comma list that are not reporters (blanks ignored). */
export function unknownReporterNames(list: string): string[] {
  return list
    .split(",")
    .map((r) => r.trim())
    .filter((r) => r && !(REPORTER_NAMES as readonly string[]).includes(r));
}
