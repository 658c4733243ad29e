// Every label key meshquake puts on the engine's objects, in one place: `clean`, the leak checks
// and the engine watch find runs, pods, owners and cached images by these, so a key spelled
// differently in one file would leave something behind.

/** Every container and network of a run carries these; `clean` and leak checks find them by label. */
export const RUN_ID_LABEL = "meshquake.run-id";
export const SCENARIO_LABEL = "meshquake.scenario";
/** A container's part in its pod (proxy, app) and the pod it belongs to. */
export const ROLE_LABEL = "meshquake.role";
export const POD_LABEL = "meshquake.pod";
/** The harness process that made a run's objects: `clean` leaves a live owner's run alone. */
export const OWNER_PID_LABEL = "meshquake.owner.pid";
export const OWNER_HOST_LABEL = "meshquake.owner.host";
export const OWNER_STARTED_LABEL = "meshquake.owner.started";
/** Images meshquake built: a cache shared by runs, so they carry no run id. */
export const IMAGE_LABEL = "meshquake.image";
export const USER_IMAGE_LABEL = "meshquake.user-image";
export const BASE_PACKAGES_LABEL = "meshquake.base.packages";

export function runLabels(runId: string, scenario: string): Record<string, string> {
  return { [RUN_ID_LABEL]: runId, [SCENARIO_LABEL]: scenario };
}
