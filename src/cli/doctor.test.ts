import { describe, expect, it } from "vitest";
import { browserCheck, doctorExitCode, nodeCheck, renderChecks } from "./doctor.js";

describe("meshquake doctor's checks", () => {
  it("Node 20 or later passes", () => {
    expect(nodeCheck("v20.20.2").status).toBe("ok");
    expect(nodeCheck("v22.1.0").status).toBe("ok");
    expect(nodeCheck("v18.19.0")).toEqual({ name: "node", status: "fail", detail: "v18.19.0: meshquake needs Node 20 or later" });
  });

  it("a missing browser is a warning, not a failure", () => {
    const missing = browserCheck("/usr/bin/chromium", false);
    expect(missing.status).toBe("warn");
    expect(doctorExitCode([nodeCheck("v20.0.0"), missing])).toBe(0);
    expect(doctorExitCode([nodeCheck("v18.0.0"), missing])).toBe(1);
  });

  it("prints one aligned line per check", () => {
    expect(renderChecks([nodeCheck("v20.1.0"), { name: "mesh image", status: "fail", detail: "not built" }])).toBe(
      "ok    node        v20.1.0\nfail  mesh image  not built\n",
    );
  });
});
