// Where the mesh image bakes images/pod/ (see images/Dockerfile), and the commands run there.
export { execIn, execOk, PodExecError, type ExecResult } from "../runtime/exec.js";

export const POD_SUPPORT_DIR = "/usr/local/lib/meshquake/pod";
export const FAULT_SCRIPT = `${POD_SUPPORT_DIR}/fault.sh`;
