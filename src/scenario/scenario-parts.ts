// The scenario cut into the pieces the cross-checks need, each kept only if it is valid on its
// own. This is what lets one run report a bad `replicas` AND an unknown service elsewhere,
// instead of making the user fix the schema errors first.
import type { Protocol } from "./protocols.js";
import type { z } from "zod";
import { DEFAULTS } from "./defaults.js";
import { parseDuration } from "./duration.js";
import {
  checkSchema,
  faultSchema,
  loadSchema,
  policySchema,
  serviceSchema,
  type CheckSpec,
  type FaultSpec,
  type HealthSpec,
  type PolicySpec,
} from "./spec.js";

/** What other parts refer to in a service, each field kept when it is valid on its own. */
export interface ServicePart {
  /** As written; [] when missing or invalid. */
  calls: string[];
  /** null when written but invalid: replica indexes cannot be checked against it. */
  replicas: number | null;
  /** Runs a user's image (`image` or `build`) instead of the fixture. */
  userImage: boolean;
  /** As written; [] when missing or invalid. */
  dependsOn: string[];
  /** As written when valid; undefined otherwise. */
  health: HealthSpec | undefined;
  /** The keys written, valid or not. */
  keys: string[];
  /** Version names as written when `versions` is valid; [] without. */
  versions: string[];
  /** As written when valid; "http" when missing or invalid. */
  protocol: Protocol;
}

export interface ScenarioParts {
  /**
   * Every service the file names, in order. The map is null when `services` is missing, empty
   * or not a map: references to services are not checked then.
   */
  services: Map<string, ServicePart> | null;
  policies: Map<string, PolicySpec | null>;
  /** null when invalid; the first service when not written. */
  loadTarget: string | null;
  /** null when invalid. */
  loadDurationMs: number | null;
  /** As written when valid; "http" when missing, null when invalid. */
  loadProtocol: "http" | "grpc" | null;
  /** null entries are invalid faults. */
  faults: (FaultSpec | null)[];
  /** Fault names as written, including those of otherwise invalid faults. */
  faultNames: string[];
  checks: (CheckSpec | null)[];
}

export function scenarioParts(data: unknown): ScenarioParts {
  const root = asMap(data);
  const serviceEntries = Object.entries(asMap(root.services));
  const services = serviceEntries.length === 0 ? null : new Map(serviceEntries.map(([name, body]) => [name, servicePart(body)]));
  const policies = new Map<string, PolicySpec | null>();
  for (const [name, body] of Object.entries(asMap(root.policies))) {
    // policies.istio lists files to import (imports.ts), not the policy of a service.
    if (name === "istio" && Array.isArray(body)) continue;
    policies.set(name, valid(policySchema, body));
  }

  const load = asMap(root.load);
  const loadShape = loadSchema.shape;
  const target = load.target === undefined ? (serviceEntries[0]?.[0] ?? null) : valid(loadShape.target, load.target);
  const duration = valid(loadShape.duration, load.duration ?? DEFAULTS.load.duration);

  const faults = asList(root.faults);
  return {
    services,
    policies,
    loadTarget: target ?? null,
    loadDurationMs: duration === null || duration === undefined ? null : parseDuration(duration),
    loadProtocol: load.protocol === undefined ? "http" : (valid(loadShape.protocol, load.protocol) ?? null),
    faults: faults.map((f) => valid(faultSchema, f)),
    faultNames: faults.flatMap((f) => {
      const name = asMap(f).name;
      return typeof name === "string" ? [name] : [];
    }),
    checks: asList(root.checks).map((c) => valid(checkSchema, c)),
  };
}

function servicePart(body: unknown): ServicePart {
  const map = asMap(body);
  const { calls, replicas, dependsOn, health } = map;
  const shape = serviceSchema.shape;
  const versions = map.versions === undefined ? null : valid(shape.versions, map.versions);
  // With versions, the service's replicas are its versions' replicas.
  const versionReplicas = versions ? Object.values(versions).reduce((sum, v) => sum + (v?.replicas ?? DEFAULTS.service.replicas), 0) : null;
  return {
    calls: valid(shape.calls, calls) ?? [],
    replicas:
      map.versions !== undefined ? versionReplicas : replicas === undefined ? DEFAULTS.service.replicas : (valid(shape.replicas, replicas) ?? null),
    versions: versions ? Object.keys(versions) : [],
    userImage: "image" in map || "build" in map,
    dependsOn: valid(shape.dependsOn, dependsOn) ?? [],
    health: health === undefined ? undefined : (valid(shape.health, health) ?? undefined),
    keys: Object.keys(map),
    protocol: valid(shape.protocol, map.protocol) ?? "http",
  };
}

function valid<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> | null {
  const result = schema.safeParse(value);
  return result.success ? result.data : null;
}

export function asMap(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
