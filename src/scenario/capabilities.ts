// What this version of meshquake can run. The format accepts more than that (it is the v1
// contract); anything outside this table is a validation error, not a surprise at run time.
// Implementing a fault kind, a property check or user images means editing this table only; a
// data plane is here when src/dataplane/registry.ts has it.
import { availableDataPlanes } from "../dataplane/registry.js";
import { error, type Finding } from "./finding.js";
import { asList, asMap } from "./scenario-parts.js";
import { DATA_PLANE_NAMES, FAULT_KINDS, PROPERTY_NAMES, type PropertyName } from "./spec.js";
import { quoteList } from "./wording.js";
import type { DataPlaneName, FaultKind } from "./types.js";

export interface Capabilities {
  dataPlanes: readonly DataPlaneName[];
  faultKinds: readonly FaultKind[];
  propertyChecks: readonly PropertyName[];
  /** Services with `image` or `build` (and their `env`, `command`) instead of the fixture. */
  userImages: boolean;
}

export const CAPABILITIES: Capabilities = {
  dataPlanes: availableDataPlanes(),
  // Each one exercised against real pods in test/integration/faults-*.test.ts.
  faultKinds: ["abort", "delay", "blackhole", "reset", "ratelimit", "partition", "kill", "pause", "bandwidth", "shift"],
  // Each one judged by src/verdict/properties/ and run against real pods in test/e2e/properties.test.ts.
  propertyChecks: ["retry_amplification", "retry_budget", "circuit_trip", "ejection", "failover", "recovery", "timeout_bound", "isolation", "slow_replica_share", "rate_limit", "traffic_split", "blast_radius"],
  userImages: true,
};

type PropertyParam = "edge" | "target" | "fault" | "within" | "max" | "min" | "slos" | "path" | "tolerance" | "version";

/**
 * What each property takes: `needs` must be there (a list: one of them), `takes` may be. What a
 * parameter means for each is in docs/properties.md.
 */
export const PROPERTY_PARAMETERS: Partial<Record<PropertyName, { needs: (PropertyParam | PropertyParam[])[]; takes: PropertyParam[]; example: string }>> = {
  retry_amplification: { needs: ["max"], takes: ["edge", "fault", "max"], example: "max: 1.5" },
  retry_budget: { needs: ["edge"], takes: ["edge", "fault"], example: "edge: { from: checkout, to: payments }" },
  circuit_trip: { needs: ["edge", "within"], takes: ["edge", "fault", "within"], example: "edge: { from: checkout, to: payments }, fault: slow-payments, within: 1s" },
  ejection: { needs: ["target", "within"], takes: ["target", "fault", "within"], example: `target: "payments[0]", within: 2s` },
  failover: { needs: ["fault", "within"], takes: ["fault", "within", "min"], example: "fault: payments-down, within: 2s, min: 99%" },
  recovery: { needs: ["fault", "within"], takes: ["fault", "within", "slos"], example: "fault: slow-payments, within: 5s" },
  timeout_bound: { needs: [], takes: ["edge", "fault", "within"], example: "edge: { from: checkout, to: payments }" },
  isolation: { needs: ["fault", ["target", "path"]], takes: ["target", "path", "fault", "slos", "min"], example: "target: catalog, fault: slow-payments" },
  slow_replica_share: { needs: ["target", "max"], takes: ["target", "fault", "max"], example: `target: "payments[0]", max: 10%` },
  rate_limit: { needs: ["target"], takes: ["target"], example: "target: payments" },
  traffic_split: { needs: ["target"], takes: ["target", "tolerance"], example: "target: payments, tolerance: 5%" },
  blast_radius: { needs: ["target", "version", "max"], takes: ["target", "version", "fault", "max"], example: "target: payments, version: v2, max: 12%" },
};

const NOT_YET = "is not implemented yet in this version of meshquake";
const USER_IMAGE_KEYS = ["image", "build", "env", "command"] as const;

/**
 * What the scenario asks for that this version cannot run. Reads the document as written, so a
 * fault that also has a schema error still says its kind is not implemented.
 */
export function capabilityFindings(data: unknown, capabilities: Capabilities = CAPABILITIES): Finding[] {
  const root = asMap(data);
  const findings: Finding[] = [];
  const dataPlane = root.dataPlane;
  if (isOneOf(dataPlane, DATA_PLANE_NAMES) && !capabilities.dataPlanes.includes(dataPlane)) {
    findings.push(error(["dataPlane"], `data plane "${dataPlane}" ${NOT_YET}. Implemented: ${quoteList(capabilities.dataPlanes)}.`));
  }
  if (!capabilities.userImages) {
    for (const [name, service] of Object.entries(asMap(root.services))) {
      for (const key of USER_IMAGE_KEYS.filter((k) => k in asMap(service))) {
        const message =
          key === "image" || key === "build"
            ? `user images are not implemented yet in this version of meshquake; remove "${key}" to run the built-in fixture service`
            : `"${key}" configures a user image, and user images are not implemented yet in this version of meshquake; remove it`;
        findings.push(error(["services", name, key], message, { at: "key" }));
      }
    }
  }
  for (const [i, fault] of asList(root.faults).entries()) {
    const kind = asMap(fault).kind;
    if (isOneOf(kind, FAULT_KINDS) && !capabilities.faultKinds.includes(kind)) {
      findings.push(error(["faults", i, "kind"], `fault kind "${kind}" ${NOT_YET}. Implemented: ${implemented(capabilities.faultKinds)}.`));
    }
  }
  for (const [i, check] of asList(root.checks).entries()) {
    const property = asMap(check).property;
    if (isOneOf(property, PROPERTY_NAMES) && !capabilities.propertyChecks.includes(property)) {
      const instead = capabilities.propertyChecks.length === 0 ? "; use an slo check for now" : "";
      findings.push(
        error(["checks", i, "property"], `property check "${property}" ${NOT_YET}. Implemented: ${implemented(capabilities.propertyChecks)}${instead}.`),
      );
    } else if (isOneOf(property, PROPERTY_NAMES)) {
      findings.push(...propertyParameterFindings(asMap(check), property, ["checks", i]));
    }
  }
  return findings;
}

/** A property check without what it needs, or with a parameter it does not use. */
function propertyParameterFindings(check: Record<string, unknown>, property: PropertyName, path: (string | number)[]): Finding[] {
  const table = PROPERTY_PARAMETERS[property];
  if (!table) return [];
  const findings: Finding[] = [];
  const given = (p: PropertyParam) => check[p] !== undefined && check[p] !== null;
  const missing: string[] = [];
  for (const need of table.needs) {
    const options = Array.isArray(need) ? need : [need];
    if (options.some(given)) {
      if (options.length > 1 && options.filter(given).length > 1) {
        findings.push(error(path, `property check "${property}" takes one of ${quoteList(options)}, not both`));
      }
      continue;
    }
    missing.push(options.length === 1 ? `"${options[0]}"` : `one of ${quoteList(options)}`);
  }
  if (missing.length > 0) {
    const what = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}`;
    findings.push(error(path, `property check "${property}" needs ${what}, e.g. ${table.example}`));
  }
  const known: readonly string[] = ["property", ...table.takes];
  for (const key of Object.keys(check)) {
    if (known.includes(key) || !ALL_PARAMS.includes(key as PropertyParam)) continue;
    findings.push(error([...path, key], `"${key}" has no meaning for property check "${property}"; it takes ${quoteList(table.takes)}`, { at: "key" }));
  }
  return findings;
}

const ALL_PARAMS: readonly PropertyParam[] = ["edge", "target", "fault", "within", "max", "min", "slos", "path", "tolerance", "version"];

function implemented(names: readonly string[]): string {
  return names.length === 0 ? "none yet" : quoteList(names);
}

function isOneOf<T extends string>(value: unknown, values: readonly T[]): value is T {
  return typeof value === "string" && (values as readonly string[]).includes(value);
}
