import type { Problem } from "./types.js";

/**
 * `<file>:<line>:<col> <path>: <message>`, the shape editors and CI annotators recognise;
 * warnings read `<file>:<line>:<col> warning: <path>: <message>`. A problem that belongs to no
 * place in the document (a YAML syntax error, an unreadable file) has no path part.
 */
export function formatProblem(problem: Problem): string {
  const severity = problem.severity === "warning" ? "warning: " : "";
  const path = problem.path === "" ? "" : `${problem.path}: `;
  return `${problem.file}:${problem.line}:${problem.col} ${severity}${path}${problem.message}`;
}
