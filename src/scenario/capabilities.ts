// What this version of meshquake can run. The format accepts more than that (it is the v1
// contract); anything outside this table is a validation error, not a surprise at run time.
// Implementing a fault kind, a property check or user images means editing this table only.
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
  dataPlanes: ["haproxy"],
  // Each one exercised against real pods in test/integration/faults-*.test.ts.
  faultKinds: ["abort", "delay", "blackhole", "reset", "partition", "kill", "pause", "bandwidth"],
  propertyChecks: [],
  userImages: true,
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
    }
  }
  return findings;
}

function implemented(names: readonly string[]): string {
  return names.length === 0 ? "none yet" : quoteList(names);
}

function isOneOf<T extends string>(value: unknown, values: readonly T[]): value is T {
  return typeof value === "string" && (values as readonly string[]).includes(value);
}
