import { describe, expect, it } from "vitest";
import { useColor } from "./color.js";

describe("useColor", () => {
  const tty = { flag: true, env: {}, isTTY: true };
  it("follows the terminal when nothing is said", () => {
    expect(useColor(tty)).toBe(true);
    expect(useColor({ ...tty, isTTY: false })).toBe(false);
  });
  it("NO_COLOR (not empty) turns it off; an empty NO_COLOR does not", () => {
    expect(useColor({ ...tty, env: { NO_COLOR: "1" } })).toBe(false);
    expect(useColor({ ...tty, env: { NO_COLOR: "" } })).toBe(true);
  });
  it("FORCE_COLOR turns it on without a terminal and over NO_COLOR; 0 and false turn it off", () => {
    expect(useColor({ ...tty, isTTY: false, env: { FORCE_COLOR: "1" } })).toBe(true);
    expect(useColor({ ...tty, isTTY: false, env: { FORCE_COLOR: "" } })).toBe(true);
    expect(useColor({ ...tty, env: { FORCE_COLOR: "1", NO_COLOR: "1" } })).toBe(true);
    expect(useColor({ ...tty, env: { FORCE_COLOR: "0" } })).toBe(false);
    expect(useColor({ ...tty, env: { FORCE_COLOR: "false" } })).toBe(false);
  });
  it("--no-color wins over everything", () => {
    expect(useColor({ flag: false, env: { FORCE_COLOR: "3" }, isTTY: true })).toBe(false);
  });
  it("TERM=dumb is no colour on a terminal", () => {
    expect(useColor({ ...tty, env: { TERM: "dumb" } })).toBe(false);
  });
});
