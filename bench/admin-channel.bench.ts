// What reaching a sidecar's runtime API costs, per channel, measured on one sidecar in one run so
// the numbers compare like with like:
//   - the loopback TCP port published on 127.0.0.1 (how meshquake reached it before: any local
//     process and every app in the mesh could too);
//   - the unix socket in the run's host directory (how it does now);
//   - docker exec into the sidecar (the fallback for an engine that does not share this machine's files).
//   npx tsx bench/admin-channel.bench.ts [commands per channel, default 500]
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Docker from "dockerode";
import { haproxyDataPlane } from "../src/dataplane/haproxy/index.js";
import { SIDECAR_UID, SIDECAR_USER } from "../src/dataplane/sidecar-user.js";
import { SIDECAR_ADMIN_SOCKET, SIDECAR_DIR } from "../src/plan/types.js";
import { execAdminChannel, unixAdminChannel } from "../src/runtime/admin-channel.js";
import { ensureImages } from "../src/runtime/images.js";

const N = Number(process.argv[2] ?? 500);
const docker = new Docker();
const name = `mq-bench-admin-${process.pid}`;
const CONFIG = `global
  stats socket ipv4@0.0.0.0:15000 level admin
  stats socket ${SIDECAR_ADMIN_SOCKET} mode 600 level admin
defaults
  mode http
  timeout client 5s
  timeout server 5s
  timeout connect 1s
frontend f
  bind 0.0.0.0:15006
  http-request return status 200
`;

function tcpSend(port: number, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    const out: Buffer[] = [];
    s.on("connect", () => s.end(`${command}\n`));
    s.on("data", (c) => out.push(c));
    s.on("error", reject);
    s.on("close", () => resolve(Buffer.concat(out).toString()));
  });
}

async function measure(label: string, n: number, send: (c: string) => Promise<string>): Promise<void> {
  for (let i = 0; i < Math.min(20, n); i++) await send("show info"); // warm up
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const answer = await send("show info");
    ms.push(performance.now() - t0);
    if (!answer.includes("Name: HAProxy")) throw new Error(`${label}: unexpected answer ${answer.slice(0, 80)}`);
  }
  ms.sort((a, b) => a - b);
  const p = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!.toFixed(2);
  console.log(`${label.padEnd(44)} ${String(n).padStart(4)} commands  p50 ${p(0.5)} ms  p90 ${p(0.9)} ms  p99 ${p(0.99)} ms`);
}

const dir = await mkdtemp(join(tmpdir(), "mq-bench-admin-"));
const sockDir = join(dir, "p0");
const { image } = await ensureImages(docker, { projectRoot: join(import.meta.dirname, ".."), log: () => {} });
try {
  await writeFile(join(dir, "haproxy.cfg"), CONFIG);
  await chmod(dir, 0o755);
  await mkdir(sockDir, { mode: 0o700 });
  await chown(sockDir, SIDECAR_UID, SIDECAR_UID);
  const c = await docker.createContainer({
    name,
    Image: image,
    User: SIDECAR_USER,
    Cmd: ["haproxy", "-W", "-db", "-f", "/etc/meshquake/haproxy.cfg"],
    Labels: { "meshquake.run-id": name },
    ExposedPorts: { "15000/tcp": {} },
    HostConfig: {
      Binds: [`${join(dir, "haproxy.cfg")}:/etc/meshquake/haproxy.cfg:ro`, `${sockDir}:${SIDECAR_DIR}`],
      PortBindings: { "15000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
    },
  });
  await c.start();
  const port = Number((await c.inspect()).NetworkSettings.Ports["15000/tcp"]![0]!.HostPort);
  for (let i = 0; i < 100; i++) {
    if (await tcpSend(port, "show info").then((a) => a.includes("HAProxy"), () => false)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`admin channel round trip, one "show info" at a time, HAProxy 2.6 in ${image}`);
  await measure("TCP port published on 127.0.0.1 (before)", N, (cmd) => tcpSend(port, cmd));
  const unix = unixAdminChannel(join(sockDir, "admin.sock"), haproxyDataPlane.admin);
  await measure("unix socket in the run directory (now)", N, (cmd) => unix.send(cmd));
  const exec = execAdminChannel(docker, c.id, haproxyDataPlane.admin);
  await measure("docker exec relay (remote engines)", N, (cmd) => exec.send(cmd));
} finally {
  await docker.getContainer(name).remove({ force: true }).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
