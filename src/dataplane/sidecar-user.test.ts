import { describe, expect, it } from "vitest";
import { formatProblem } from "../scenario/format-problem.js";
import { parseScenario } from "../scenario/load-scenario.js";
import { asSidecar, SIDECAR_UID, SIDECAR_USER, userClaimsUid } from "./sidecar-user.js";

const scenario = (service: string) => `name: x
services:
  web:
    image: acme/web:1
    port: 7070
${service}
load: { target: web }
`;

const problems = (service: string) =>
  parseScenario("s.yaml", scenario(service))
    .problems.filter((p) => p.severity === "error")
    .map(formatProblem);

describe("the sidecar's uid is not an app's", () => {
  it("is refused in every numeric spelling the engine accepts", () => {
    for (const user of ["1337", "01337", "+1337", "1337:1337", "1337:0", " 1337"]) expect(userClaimsUid(user), user).toBe(true);
    for (const user of ["13370", "133", "app", "0", "10001:1337", ""]) expect(userClaimsUid(user), user).toBe(false);
    expect(SIDECAR_UID).toBe(1337);
  });

  it("validate says where, and why", () => {
    expect(problems(`    user: "01337"`)).toEqual([
      `s.yaml:6:11 services.web.user: uid 1337 is the sidecar's (found "01337"): the pod's interception lets that uid's traffic bypass the mesh, ` +
        `so this app's calls would not be meshed; run it as another user`,
    ]);
    expect(problems(`    user: "10001:1337"`)).toEqual([]);
  });

  it("in an imported compose file too, located there", () => {
    const compose = "services:\n  web:\n    image: acme/web:1\n    user: \"1337:1337\"\n";
    const r = parseScenario("s.yaml", "name: x\ntopology: { compose: ./compose.yaml }\n", { readFile: (p) => (p.endsWith("compose.yaml") ? compose : null) });
    expect(r.problems.filter((p) => p.severity === "error").map(formatProblem)).toEqual([
      expect.stringMatching(/^compose\.yaml:4:11 services\.web\.user: uid 1337 is the sidecar's \(found "1337:1337"\)/),
    ]);
  });
});

describe("resources of an app container", () => {
  it("takes docker's memory sizes and a process limit", () => {
    const { scenario: s, problems: p } = parseScenario("s.yaml", scenario(`    resources: { memory: 512MiB, pids: 200 }`));
    expect(p.filter((x) => x.severity === "error")).toEqual([]);
    expect(s!.services[0]!.resources).toEqual({ memoryBytes: 512 * 1024 ** 2, pids: 200 });
  });

  it("refuses sizes the engine would refuse, located", () => {
    expect(problems(`    resources: { memory: 2m, pids: 8 }`)).toEqual([
      `s.yaml:6:26 services.web.resources.memory: expected a memory size between 6m and 256g such as "256m", "512MiB" or "1g" (k, m, g are powers of 1024), found "2m"`,
      `s.yaml:6:36 services.web.resources.pids: must be between 16 and 65536, found 8`,
    ]);
    expect(problems(`    resources: { memory: lots }`)[0]).toMatch(/^s\.yaml:6:26 services\.web\.resources\.memory: expected a memory size/);
  });
});

describe("running as the sidecar", () => {
  it("is the uid with its own group and no other", () => {
    expect(SIDECAR_USER).toBe("1337:1337");
    expect(asSidecar(["touch", "/run/meshquake/go"])).toEqual(["setpriv", "--reuid=1337", "--regid=1337", "--clear-groups", "touch", "/run/meshquake/go"]);
  });
});
