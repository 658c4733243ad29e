// The hostile-input corpus (fixtures/hostile/): scenarios built to break a validator — alias
// bombs, overflowing numbers and durations, deep nesting, huge files, names that are properties
// of every object, control characters, imports that reach outside — each with the exact lines
// `meshquake validate` must print for it (NN-name.expected). The inputs are generated here,
// several of them too large or too repetitive to write by hand:
//   npx tsx src/scenario/hostile-cases.ts              writes the inputs
//   npx tsx src/scenario/hostile-cases.ts --expected   also rewrites every .expected (review the diff!)
// A unit test fails when the files on disk differ from what this generates.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const HOSTILE_DIR = "fixtures/hostile";

const lines = (...l: string[]) => `${l.join("\n")}\n`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Nine aliases of nine aliases of ...: a billion laughs when expanded. */
function aliasBomb(indent = ""): string {
  const levels = "abcdefg";
  return [
    `${indent}a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]`,
    ...range(levels.length - 1).map((i) => `${indent}${levels[i + 1]}: &${levels[i + 1]} [${range(9).map(() => `*${levels[i]}`).join(", ")}]`),
  ].join("\n");
}

/** Every hostile input: scenario files (NN-name.yaml) and the files they import (imports/...). */
export function hostileFiles(): Record<string, string> {
  const services = (n: number, body = "{}") => range(n).map((i) => `  s${i}: ${body}`);
  return {
    "01-alias-bomb.yaml": lines("name: alias-bomb", "services:", "  frontend: {}", "x-lol:", aliasBomb("  ")),
    "02-unresolved-alias.yaml": lines("name: unresolved-alias", "services:", "  frontend: *frontend-template"),
    "03-alias-cycle.yaml": lines("name: alias-cycle", "services: &all", "  frontend: { calls: *all }"),
    "04-deep-nesting.yaml": lines("name: deep-nesting", "services: { frontend: {} }", `description: ${"[".repeat(80)}${"]".repeat(80)}`),
    "05-file-too-large.yaml": lines("name: file-too-large", "services: { frontend: {} }", `description: "${"x".repeat(130 * 1024)}"`),
    "06-long-names.yaml": lines(
      `name: ${"n".repeat(64)}`,
      "services:",
      `  ${"s".repeat(61)}: {}`,
      "faults:",
      `  - { name: ${"f".repeat(64)}, kind: abort, target: ${"s".repeat(61)} }`,
    ),
    "07-too-many-services.yaml": lines("name: too-many-services", "services:", ...services(51)),
    "08-too-many-pods.yaml": lines("name: too-many-pods", "services:", ...services(6, "{ replicas: 20 }")),
    "09-too-many-faults.yaml": lines(
      "name: too-many-faults",
      "services: { frontend: {} }",
      "faults:",
      ...range(101).map((i) => `  - { name: f${i}, kind: abort, target: frontend, percent: 1 }`),
    ),
    "10-deep-call-chain.yaml": lines("name: deep-call-chain", "services:", ...range(18).map((i) => `  s${i}: { calls: [${i < 17 ? `s${i + 1}` : ""}] }`)),
    "11-timer-overflow.yaml": lines(
      "name: timer-overflow",
      "services: { frontend: { calls: [payments] }, payments: { latency: 25h } }",
      "policies:",
      "  payments: { timeout: 597h, retries: { perTryTimeout: 99999999999999999999h, budget: { window: 48h } } }",
      "load: { duration: 600h }",
      "faults:",
      "  - { name: late, kind: abort, target: payments, at: 1000h, duration: 2147483648ms }",
      "checks:",
      "  - { property: ejection, target: payments, within: 30d }",
    ),
    "12-delay-over-proxy-cap.yaml": lines(
      "name: delay-over-proxy-cap",
      "services: { frontend: { calls: [payments] }, payments: {} }",
      "faults:",
      "  - { name: slow, kind: delay, target: payments, delay: 61m }",
      "  - { name: slower, kind: delay, target: payments, delay: 1ms..2h }",
    ),
    "13-health-paths.yaml": lines(
      "name: health-paths",
      "services:",
      '  frontend: { calls: [payments], health: "/ready now" }',
      '  payments: { health: "/x\\ny" }',
      "policies:",
      `  payments: { healthCheck: { path: "/h'q" } }`,
    ),
    "14-duplicate-calls.yaml": lines(
      "name: duplicate-calls",
      "services:",
      "  frontend: { calls: [payments, inventory, payments] }",
      "  payments: {}",
      "  inventory: {}",
    ),
    "15-sidecar-ports.yaml": lines(
      "name: sidecar-ports",
      "services:",
      "  frontend: { port: 15001 }",
      "  payments: { port: 15001 }",
      "  inventory: { port: 15006 }",
    ),
    "16-header-names.yaml": lines(
      "name: header-names",
      "services: { frontend: { calls: [payments] }, payments: {} }",
      "load:",
      '  requests: [{ path: /, headers: { "bad header": x, "x:y": z, "": e } }]',
      "faults:",
      '  - { name: m, kind: abort, target: payments, match: { header: "tenant id", value: a } }',
    ),
    "17-crlf-in-requests.yaml": lines(
      "name: crlf-in-requests",
      "services: { frontend: {} }",
      "load:",
      "  requests:",
      '    - { path: "/a\\r\\nHost: evil", headers: { x-tenant: "a\\r\\nx-mq-from: admin" } }',
      '    - { path: "/spaced path" }',
      '    - { path: "/ok", headers: { x-note: "bell\\u0007" } }',
    ),
    "18-reserved-headers.yaml": lines(
      "name: reserved-headers",
      "services: { frontend: {} }",
      "load:",
      "  requests: [{ headers: { x-mq-from: frontend, X-MQ-Deadline: '0' } }]",
    ),
    "19-object-property-names.yaml": lines(
      "name: object-property-names",
      "services:",
      "  __proto__: { calls: [frontend] }",
      "  constructor: {}",
      '  frontend: { image: acme/app, env: { __proto__: x, "A=B": y } }',
      "load: { requests: [{ headers: { __proto__: x } }] }",
      "policies:",
      "  hasOwnProperty: { timeout: 1s }",
      "faults:",
      "  - { name: prototype, kind: abort, target: frontend }",
    ),
    "20-huge-numbers.yaml": lines(
      "name: huge-numbers",
      "seed: 1e300",
      "services: { frontend: { calls: [payments], replicas: 1e300 }, payments: { port: 99999999999 } }",
      "policies:",
      "  payments:",
      "    circuitBreaker: { maxConnections: 1000000000000, maxPending: 9007199254740993 }",
      "    outlierDetection: { consecutive5xx: 1e9 }",
      "    retries: { attempts: 1e6, budget: { minPerSecond: 1e12 } }",
      "    healthCheck: { path: /healthz, unhealthyAfter: 5000, healthyAfter: -1 }",
      "faults:",
      "  - { name: a, kind: abort, target: payments, status: 1e3, percent: 1e308, replicas: [1e20] }",
    ),
    "21-nan-and-infinity.yaml": lines(
      "name: nan-and-infinity",
      "services: { frontend: { errorRate: .nan, replicas: .inf, latency: NaNms } }",
      "faults:",
      "  - { name: a, kind: abort, target: frontend, percent: -.inf, at: Infinitys }",
    ),
    "22-control-characters.yaml": lines(
      "name: control-characters",
      'description: "\\u001b]0;pwned\\u0007 \\u001b[2J"',
      "services:",
      '  "front\\u001b[31mend": {}',
      '  "\\u202eevil": {}',
      'faults: [{ name: "a\\nb", kind: abort, target: "x\\r\\n::error::injected" }]',
    ),
    "23-unicode-lookalikes.yaml": lines(
      "name: unicode-lookalikes",
      "services:",
      "  frontend: { calls: [pаyments] }",
      "  payments: {}",
      "  \u200bzero: {}",
    ),
    "24-imports-outside.yaml": lines(
      "name: imports-outside",
      "topology: { compose: ../../docker-compose.yml }",
      "policies: { istio: [/etc/passwd, imports/../../invalid/imports/istio-problems.yaml] }",
      "services:",
      "  web: { build: ../../fixtures/tiny-server, port: 7070 }",
      "  api: { build: { context: /, dockerfile: ../etc/Dockerfile }, port: 7070 }",
    ),
    "25-env-file-secrets.yaml": lines("name: env-file-secrets", "topology: { compose: imports/env-file/compose.yml }"),
    "26-compose-alias-bomb.yaml": lines("name: compose-alias-bomb", "topology: { compose: imports/bomb/compose.yml }"),
    "27-istio-bad-aliases.yaml": lines(
      "name: istio-bad-aliases",
      "services: { frontend: { calls: [payments] }, payments: {} }",
      "policies: { istio: [imports/istio-aliases.yaml] }",
    ),
    "28-compose-interpolation.yaml": lines("name: compose-interpolation", "topology: { compose: imports/interpolation/compose.yml }"),
    "29-type-swaps.yaml": lines(
      "name: [type, swaps]",
      "services:",
      "  frontend: { replicas: '3', calls: { checkout: true }, latency: 5, port: '8080' }",
      "  checkout: []",
      "policies: [payments]",
      "load: 100",
      "faults: { name: a }",
      "checks: error_rate < 1%",
    ),
    "30-long-strings.yaml": lines(
      "name: long-strings",
      `services: { frontend: { calls: [${"c".repeat(5000)}], latency: ${"9".repeat(5000)}ms } }`,
      `load: { requests: [{ path: /${"p".repeat(3000)} }] }`,
      `checks: [{ slo: "error_rate < ${"1".repeat(300)}%" }]`,
    ),
    "31-container-text.yaml": lines(
      "name: container-text",
      "services:",
      '  app: { image: "acme/app\\u0000:1", command: ["run\\u0000now"], env: { "": x, K: "v\\u0000" }, user: "\\u0000" }',
      '  img: { image: "acme app:1" }',
    ),
    "32-bandwidth-rates.yaml": lines(
      "name: bandwidth-rates",
      "services: { frontend: {} }",
      "faults:",
      "  - { name: zero, kind: bandwidth, target: frontend, rate: 0kbit }",
      "  - { name: huge, kind: bandwidth, target: frontend, rate: 200gbit }",
    ),
    "33-many-problems-at-once.yaml": lines(
      "name: many-problems-at-once",
      "services:",
      "  frontend: { calls: [payments, payments], port: 15006, health: '/a b' }",
      "  payments: { replicas: 21 }",
      "policies:",
      "  payments: { timeout: 25h, circuitBreaker: { maxConnections: 2000000 } }",
      "load: { duration: 30h, requests: [{ headers: { x-mq-req: '1' } }] }",
      "faults:",
      "  - { name: slow, kind: delay, target: payments, delay: 2h, match: { header: 'a b', value: \"\\n\" } }",
    ),
    "34-yaml-1.1-tags.yaml": lines(
      "name: yaml-tags",
      "services:",
      "  frontend: !!binary aGVsbG8=",
      "  payments: !!set { a }",
      "load: { duration: !!timestamp 2001-12-14 }",
      "checks: !!omap [ { slo: error_rate < 1% } ]",
    ),
    "35-collection-keys.yaml": lines(
      "name: collection-keys",
      "services:",
      "  ? [frontend, payments]",
      "  : {}",
      "x-anchor: &pair [a, b]",
      "policies: { *pair : { timeout: 1s } }",
    ),
    "imports/env-file/compose.yml": lines(
      "services:",
      "  api:",
      "    image: acme/api",
      "    expose: [8080]",
      "    env_file: [/proc/self/environ, ../../../../../../etc/passwd]",
    ),
    "imports/bomb/compose.yml": lines("x-lol:", aliasBomb("  "), "services:", "  api: { image: acme/api, expose: [8080] }"),
    "imports/istio-aliases.yaml": lines(
      "apiVersion: networking.istio.io/v1",
      "kind: VirtualService",
      "metadata: { name: payments }",
      "spec: { hosts: [payments], http: [{ route: *route }] }",
      "---",
      "apiVersion: networking.istio.io/v1",
      "kind: DestinationRule",
      "metadata: &meta { name: payments, labels: *meta }",
      "spec: { host: payments }",
    ),
    "imports/interpolation/compose.yml": lines(
      "services:",
      "  api:",
      "    image: acme/api:${TAG:-${CHANNEL:-stable}",
      "    expose: [8080]",
      "    environment:",
      "      A: ${A/x/y}",
      "      B: ${MULTI}",
    ),
    "imports/interpolation/.env": lines("CHANNEL=beta", 'MULTI="first line', "second line", "THIRD=never reached"),
  };
}

/** Writes the inputs (and with `expected`, each .expected from `render`) under `root`. */
export function writeHostileCorpus(root: string, expected?: (file: string) => string): void {
  const dir = join(root, HOSTILE_DIR);
  for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.name.endsWith(".yaml") || e.name === "imports")) {
    rmSync(join(dir, entry.name), { recursive: true, force: true });
  }
  const files = Object.entries(hostileFiles());
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  if (!expected) return;
  for (const [path] of files.filter(([path]) => !path.includes("/"))) {
    writeFileSync(join(dir, path.replace(/\.yaml$/, ".expected")), expected(`${HOSTILE_DIR}/${path}`));
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  mkdirSync(join(root, HOSTILE_DIR), { recursive: true });
  // What `meshquake validate` prints for each, from the same functions (only when asked: review the diff).
  const { validateParsed, validationLines } = await import("../cli/validate.js");
  const { parseScenario, readFileOrNull } = await import("./load-scenario.js");
  const { readFileSync } = await import("node:fs");
  const read = (path: string) => readFileOrNull(isAbsolute(path) ? path : join(root, path));
  const expected = (file: string) => `${validationLines(validateParsed(file, parseScenario(file, readFileSync(join(root, file), "utf8"), { readFile: read }))).join("\n")}\n`;
  writeHostileCorpus(root, process.argv.includes("--expected") ? expected : undefined);
  console.log(`wrote ${Object.keys(hostileFiles()).length} files under ${HOSTILE_DIR}/`);
}
