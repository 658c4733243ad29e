import { describe, expect, it } from "vitest";
import { interpolate, parseEnvFile } from "./compose-env.js";
import { importCompose } from "./compose-import.js";
import { formatProblem } from "./format-problem.js";

const run = (text: string, vars: Record<string, string> = {}) => {
  const problems: string[] = [];
  const value = interpolate(text, vars, (message, severity) => problems.push(`${severity}: ${message}`));
  return { value, problems };
};

describe("interpolate: Compose's documented forms", () => {
  it("nests operands: ${A:-${B:-x}} takes A, else B, else x", () => {
    expect(run("${A:-${B:-x}}").value).toBe("x");
    expect(run("${A:-${B:-x}}", { B: "b" }).value).toBe("b");
    expect(run("${A:-${B:-x}}", { A: "a" })).toEqual({ value: "a", problems: [] });
    expect(run("pre-${A:-${B}-mid}-post", { B: "b" }).value).toBe("pre-b-mid-post");
    expect(run("${A:+${B:-alt}}", { A: "1" }).value).toBe("alt");
    expect(run("${A-${B}}", { A: "" }).value).toBe("");
  });

  it("evaluates only the operand it uses: an unset variable in an unused default is not reported", () => {
    expect(run("${A:-$UNSET}", { A: "a" }).problems).toEqual([]);
    expect(run("${A:-$UNSET}").problems).toEqual([expect.stringMatching(/^warning: \$UNSET is not set/)]);
  });

  it("a required variable's message is interpolated too: ${A?$WHY}", () => {
    expect(run("${A?$WHY}", { WHY: "set A to the API key" }).problems).toEqual([
      expect.stringContaining("error: ${A?$WHY} requires A (set A to the API key)"),
    ]);
  });

  it("refuses what Compose refuses, instead of a silently wrong value", () => {
    expect(run("${A:-x").problems).toEqual([`error: unterminated interpolation "\${A:-x": no closing "}"`]);
    expect(run("${A/b/c}").problems[0]).toMatch(/^error: invalid interpolation "\$\{A\/b\/c\}": Compose takes/);
    expect(run("${}").problems[0]).toMatch(/^error: invalid interpolation "\$\{\}"/);
    expect(run(`${"${A:-".repeat(40)}x${"}".repeat(40)}`).problems[0]).toMatch(/^error: interpolation nested more than 16 levels deep/);
  });

  it("keeps $$ and a $ that starts no variable", () => {
    expect(run("$$HOME costs $5 and ${A:-$$}").value).toBe("$HOME costs $5 and $");
  });

  it("reads only own variables: a variable named constructor is unset, not Object's", () => {
    expect(run("[${constructor}]").value).toBe("[]");
  });
});

describe("parseEnvFile: Compose's env-file syntax", () => {
  it("reads quoted values that span lines, with escapes in double quotes only", () => {
    const text = 'CERT="-----BEGIN-----\nabc\n-----END-----"\nSINGLE=\'one\ntwo \\n\'\nESC="a\\tb\\nc \\"q\\""\nLAST=1\n';
    expect(parseEnvFile(text)).toEqual({
      values: { CERT: "-----BEGIN-----\nabc\n-----END-----", SINGLE: "one\ntwo \\n", ESC: 'a\tb\nc "q"', LAST: "1" },
      problems: [],
    });
  });

  it("interpolates unquoted and double-quoted values with what came before, never single-quoted ones", () => {
    const { values } = parseEnvFile("A=1\nB=${A}-$A\nC=\"${A:-x}\"\nD='${A}'\nE=${OUTER}\n", { OUTER: "o" });
    expect(values).toEqual({ A: "1", B: "1-1", C: "1", D: "${A}", E: "o" });
  });

  it("follows the documented comment rules", () => {
    expect(parseEnvFile('A=VAL # comment\nB=VAL# not a comment\nC="VAL # not" # comment\n').values).toEqual({
      A: "VAL",
      B: "VAL# not a comment",
      C: "VAL # not",
    });
  });

  it("locates what it cannot read: an unclosed quote, text after a quote, a bad name, a missing value", () => {
    expect(parseEnvFile('OK=1\nKEY="never closed\nMORE=2\n').problems).toEqual([
      { severity: "error", line: 2, col: 5, message: "KEY: the double quote opened here is never closed" },
    ]);
    expect(parseEnvFile("A='x' trailing\n1BAD=2\n__proto__=3\nALONE\n").problems).toEqual([
      { severity: "error", line: 1, col: 6, message: `A: unexpected "trailing" after the closing quote` },
      { severity: "error", line: 2, col: 1, message: `"1BAD" is not a variable name; expected KEY=VALUE` },
      { severity: "error", line: 3, col: 1, message: `"__proto__" is not a variable name; expected KEY=VALUE` },
      expect.objectContaining({ severity: "warning", line: 4, col: 1 }),
    ]);
  });
});

describe("importCompose: interpolation and env files end to end", () => {
  /** app/compose.yml with `compose` as its text, beside the other files given. */
  const app = (compose: string, others: Record<string, string>) => {
    const files: Record<string, string> = { "app/compose.yml": compose, ...others };
    return importCompose("app/compose.yml", (path) => files[path] ?? null);
  };

  it("a nested default and a multi-line .env value reach the service as Compose would give them", () => {
    const imported = app("services:\n  api:\n    image: acme/api:${TAG:-${CHANNEL:-stable}}\n    environment:\n      KEY: ${KEY}\n", {
      "app/.env": 'CHANNEL=beta\nKEY="line one\nline two"\n',
    });
    expect(imported.services.api).toMatchObject({ image: "acme/api:beta", env: { KEY: "line one\nline two" } });
  });

  it("an unreadable .env or env_file is an error located in that file", () => {
    const imported = app("services:\n  api:\n    image: acme/api\n    env_file: api.env\n", { "app/.env": "TAG=${BROKEN\n", "app/api.env": 'X="open\n' });
    expect(imported.problems.map(formatProblem)).toEqual([
      `app/.env:1:5 TAG: unterminated interpolation "\${BROKEN": no closing "}"`,
      "app/api.env:1:3 X: the double quote opened here is never closed",
      expect.stringMatching(/^app\/compose\.yml:\d+:\d+ warning: services\.api: no port found/),
    ]);
  });
});
