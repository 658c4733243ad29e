// Behavioural conformance for data plane adapters: the contract (harness.ts), the shared cases
// (cases.ts) and the small driver they use. An adapter's integration test supplies a harness.
export * from "./harness.js";
export * from "./cases.js";
export { drive, type DriveOptions, type Shot } from "./drive.js";
