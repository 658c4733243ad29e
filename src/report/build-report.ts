// Assembles the one RunReport from the parts the run produced. Pure: the verdict and exit code
// are derived here, once, from the checks and the harness errors — never patched in later.
import type { ResolvedScenario } from "../scenario/types.js";
import { EXIT, exitCodeFor, overallVerdict } from "../verdict/verdict.js";
import type {
  CheckResult,
  ClientStats,
  EdgeStats,
  FaultRecord,
  HarnessError,
  LoadRecord,
  MeshTimeline,
  ReplicaStats,
  RunReport,
  WindowRecord,
} from "../model/run-report.js";

export interface ReportParts {
  runId: string;
  toolVersion: string;
  /** When load started (the zero of every relative time): ISO string or Date. */
  startedAt: string | Date;
  scenario: ResolvedScenario;
  checks: readonly CheckResult[];
  /** Plan windows are accepted as they are; only name, start and end are kept. */
  windows: readonly WindowRecord[];
  faults: readonly FaultRecord[];
  client: ClientStats;
  edges: readonly EdgeStats[];
  replicas: readonly ReplicaStats[];
  errors: readonly HarnessError[];
  warnings: readonly string[];
  timings: { setupMs: number; runMs: number; teardownMs: number; steps?: Record<string, number> };
  environment: RunReport["environment"];
  load?: LoadRecord;
  meshTimeline?: MeshTimeline;
  /** The run was stopped by a signal: the report records exit code 130 whatever the verdict. */
  interrupted?: boolean;
}

export function buildReport(parts: ReportParts): RunReport {
  const verdict = overallVerdict(parts.checks, parts.errors);
  const report: RunReport = {
    schemaVersion: 1,
    tool: { name: "meshquake", version: parts.toolVersion },
    runId: parts.runId,
    startedAt: typeof parts.startedAt === "string" ? parts.startedAt : parts.startedAt.toISOString(),
    scenario: parts.scenario,
    verdict,
    exitCode: parts.interrupted ? EXIT.interrupted : exitCodeFor(verdict),
    errors: [...parts.errors],
    timings: {
      setupMs: Math.round(parts.timings.setupMs),
      runMs: Math.round(parts.timings.runMs),
      teardownMs: Math.round(parts.timings.teardownMs),
      steps: { ...parts.timings.steps },
    },
    checks: [...parts.checks],
    windows: parts.windows.map(({ name, start, end }) => ({ name, start, end })),
    faults: [...parts.faults],
    client: parts.client,
    edges: [...parts.edges],
    replicas: [...parts.replicas],
    warnings: [...parts.warnings],
    environment: parts.environment,
  };
  if (parts.load !== undefined) report.load = parts.load;
  if (parts.meshTimeline !== undefined) report.meshTimeline = parts.meshTimeline;
  return report;
}
