// Data planes by name. Envoy shares the contract but has no adapter in this build yet.
import type { DataPlaneName } from "../scenario/types.js";
import { haproxyDataPlane } from "./haproxy/index.js";
import type { DataPlane } from "./types.js";

const DATA_PLANES: Record<DataPlaneName, DataPlane | null> = {
  haproxy: haproxyDataPlane,
  envoy: null,
};

export class DataPlaneUnavailableError extends Error {
  override name = "DataPlaneUnavailableError";
}

export function availableDataPlanes(): DataPlaneName[] {
  return (Object.keys(DATA_PLANES) as DataPlaneName[]).filter((n) => DATA_PLANES[n] !== null);
}

/** Every data plane this build has, in registry order: the mesh image carries them all. */
export function builtDataPlanes(): DataPlane[] {
  return Object.values(DATA_PLANES).filter((p) => p !== null);
}

export function dataPlaneFor(name: DataPlaneName): DataPlane {
  const plane = DATA_PLANES[name];
  if (!plane) {
    throw new DataPlaneUnavailableError(
      `data plane "${name}" is not available in this build (available: ${availableDataPlanes().join(", ")}); ` +
        `set dataPlane: haproxy in the scenario or pass --data-plane haproxy`,
    );
  }
  return plane;
}
