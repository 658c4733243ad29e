// The uid the mesh reserves for its sidecars, part of every data plane's contract: each pod's
// interception rules let this uid's traffic past the sidecar (the sidecar's own calls must not loop
// back into it), so a data plane's sidecar runs as it, and an app running as it would bypass the
// mesh: no policy, no faults, no observations. The same number Istio reserves for its proxy, so
// images made to run under Istio already avoid it; far from the 100-999 range where distributions
// put system users (Alpine's first `adduser -S` gets 100, Debian's haproxy is 100).
export const SIDECAR_UID = 1337;

/** The sidecar's user as the engine takes it ("uid:gid"): its own group too. */
export const SIDECAR_USER = `${SIDECAR_UID}:${SIDECAR_UID}`;

/**
 * `argv` run as the sidecar's uid from a pod's proxy container's root (its first shell keeps the
 * SETUID and SETGID capabilities for this): with no supplementary group, so it holds what the
 * sidecar holds and its traffic passes the interception as the sidecar's does.
 */
export function asSidecar(argv: readonly string[]): string[] {
  return ["setpriv", `--reuid=${SIDECAR_UID}`, `--regid=${SIDECAR_UID}`, "--clear-groups", ...argv];
}

/**
 * Whether a container `user` ("uid", "name", "uid:gid", "name:group") names the uid by number in
 * any spelling the engine accepts: "1337", "01337", "+1337", "1337:0". A name cannot be told
 * here (it resolves in the image's own /etc/passwd); the run checks the app's processes instead.
 */
export function userClaimsUid(user: string, uid: number = SIDECAR_UID): boolean {
  const name = user.split(":")[0]!.trim();
  return /^[+-]?\d+$/.test(name) && Number(name) === uid;
}
