import { connect } from "node:net";
import { PassThrough, type Duplex } from "node:stream";
import type Docker from "dockerode";
import type { AdminChannel, AdminProtocol } from "../dataplane/types.js";
import { SIDECAR_ADMIN_SOCKET } from "../plan/types.js";
import { SIDECAR_USER } from "../dataplane/sidecar-user.js";
import { streamingClient } from "./docker.js";

export const ADMIN_TIMEOUT_MS = 5_000;

/** How the harness reaches the sidecars' runtime API (see adminChannelFor). */
export type AdminTransport = "host" | "exec";

/**
 * One command per connection to a sidecar's runtime API, framed as its data plane says (the
 * proxy answers and closes), through its unix socket as this machine sees it in the run
 * directory. As fast as a loopback TCP port, reachable by nothing else.
 */
export function unixAdminChannel(socketPath: string, protocol: Pick<AdminProtocol, "frame">, timeoutMs = ADMIN_TIMEOUT_MS): AdminChannel {
  return {
    send(command: string): Promise<string> {
      return new Promise((resolve, reject) => {
        const socket = connect({ path: socketPath });
        const chunks: Buffer[] = [];
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`admin command timed out after ${timeoutMs} ms: ${command}`)));
        socket.on("connect", () => socket.end(protocol.frame(command)));
        socket.on("data", (c) => chunks.push(c));
        socket.on("error", reject);
        socket.on("close", (hadError) => {
          if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
        });
      });
    },
  };
}

/**
 * The exec channel's relay, run by the sidecar's own Node: reads one JSON-encoded command a line
 * on stdin, already framed by the harness, sends each as it is to the unix socket argv[1] (one
 * connection a command, in order), writes each answer as one JSON line on stdout.
 */
const RELAY = `
const path = process.argv[1];
const net = require("net");
let queue = Promise.resolve();
let rest = "";
const send = (command) => new Promise((resolve) => {
  const s = net.connect({ path });
  const out = [];
  s.on("connect", () => s.end(command));
  s.on("data", (c) => out.push(c));
  s.on("error", (e) => resolve({ error: e.message }));
  s.on("close", () => resolve({ answer: Buffer.concat(out).toString("utf8") }));
});
process.stdin.on("data", (chunk) => {
  const lines = (rest + chunk).split("\\n");
  rest = lines.pop();
  for (const line of lines) queue = queue.then(() => send(JSON.parse(line))).then((r) => process.stdout.write(JSON.stringify(r) + "\\n"));
});
process.stdin.on("end", () => queue.then(() => process.exit(0)));
`;

/**
 * The same runtime API through `docker exec` in the sidecar, for an engine whose files this
 * machine cannot see (a remote DOCKER_HOST, Docker Desktop's VM): one long-lived exec per
 * sidecar runs a relay in the sidecar's own Node, which connects to the socket for each command
 * it reads on its stdin. A command costs a round trip to the engine, not an exec; a broken session
 * (the engine restarted, a command timed out) is replaced by the next command.
 */
export function execAdminChannel(docker: Docker, sidecarId: string, protocol: Pick<AdminProtocol, "frame">, timeoutMs = ADMIN_TIMEOUT_MS): AdminChannel {
  let session: Promise<RelaySession> | null = null;
  return {
    async send(command: string): Promise<string> {
      session ??= openRelay(docker, sidecarId).catch((err: unknown) => {
        session = null;
        throw err;
      });
      const relay = await session;
      try {
        return await relay.send(command, protocol.frame(command), timeoutMs);
      } catch (err) {
        relay.close();
        session = null;
        throw err;
      }
    },
  };
}

interface RelaySession {
  /** `framed` goes to the socket; `command` names it in errors. */
  send(command: string, framed: string, timeoutMs: number): Promise<string>;
  close(): void;
}

async function openRelay(docker: Docker, sidecarId: string): Promise<RelaySession> {
  const exec = await docker.getContainer(sidecarId).exec({
    Cmd: ["node", "-e", RELAY, SIDECAR_ADMIN_SOCKET],
    // The socket's directory is the sidecar's own; the container's root has no DAC override.
    User: SIDECAR_USER,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  // The session lives as long as the sidecar: the streaming client, without the per-call deadline.
  const stream = (await streamingClient(docker).getExec(exec.id).start({ hijack: true, stdin: true })) as Duplex & { unref?: () => void };
  // An open session must not keep the harness alive on its own: the sidecar's removal ends it anyway.
  (stream as unknown as { unref?: () => void }).unref?.();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  const pending: Array<{ resolve: (answer: string) => void; reject: (err: Error) => void }> = [];
  let said = "";
  let rest = "";
  let closed: Error | null = null;
  stderr.on("data", (c: Buffer) => (said = (said + c.toString("utf8")).slice(-500)));
  stdout.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const waiting = pending.shift();
      if (!waiting) continue;
      const r = JSON.parse(line) as { answer?: string; error?: string };
      if (r.error !== undefined) waiting.reject(new Error(`admin socket in the sidecar: ${r.error}`));
      else waiting.resolve(r.answer ?? "");
    }
  });
  const end = (why: Error) => {
    closed ??= why;
    for (const p of pending.splice(0)) p.reject(closed);
  };
  stream.on("end", () => end(new Error(`the admin relay in the sidecar ended${said ? `: ${said.trim()}` : ""}`)));
  stream.on("close", () => end(new Error("the admin relay's connection closed")));
  stream.on("error", (err: Error) => end(err));
  return {
    send(command, framed, timeoutMs) {
      if (closed) return Promise.reject(closed);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`admin command through docker exec timed out after ${timeoutMs} ms: ${command}`)), timeoutMs);
        pending.push({
          resolve: (a) => (clearTimeout(timer), resolve(a)),
          reject: (e) => (clearTimeout(timer), reject(e)),
        });
        stream.write(`${JSON.stringify(framed)}\n`);
      });
    },
    close() {
      end(new Error("the admin relay was closed"));
      stream.destroy();
    },
  };
}
