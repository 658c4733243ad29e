// What the report keeps of a load (RunReport.load): pure, apart from the generators, so the judge
// (and \`meshquake judge\`) loads neither autocannon nor the open-loop threads.
import type { GeneratorStats } from "../observe/generator-recorder.js";
import type { LoadRecord } from "../model/run-report.js";
import type { ResolvedLoad } from "../scenario/types.js";
import type { LoadResult } from "./load-types.js";

/** The part of a load result the report keeps (RunReport.load), with the generator's own account. */
export function loadRecord(result: LoadResult, load: ResolvedLoad, generator: GeneratorStats, lagToleranceUs: number): LoadRecord {
  return {
    durationMs: Math.round(result.durationMs),
    aborted: result.aborted,
    recorded: result.recorded,
    unfinished: result.unfinished,
    dropped: result.dropped,
    staggerGroups: result.groups?.length ?? 0,
    model: result.model,
    // Older recordings' scenarios have no protocol: they were HTTP.
    ...(load.protocol === "grpc" ? { protocol: "grpc" as const } : {}),
    ...(load.model === "open" ? { arrivals: load.arrivals, maxInFlight: load.maxInFlight, lagToleranceUs, scheduling: result.scheduling ?? "normal" } : {}),
    rate: load.rate,
    connections: result.connections,
    intended: generator.intended,
    sent: generator.sent,
    notSent: generator.notSent,
    lagUs: generator.lagUs,
    perSecond: generator.perSecond,
    windows: generator.windows,
    keptUp: generator.keptUp,
  };
}
