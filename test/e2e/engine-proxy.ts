// A stand-in for the Docker engine's socket that a test can cut: every connection is piped to the
// real engine until `cut()`, which closes the listener and every open connection, as the engine
// going away does (refused connects, streams ended). `restore()` brings it back. On a unix socket
// (DOCKER_HOST=unix://...) or a loopback TCP port (DOCKER_HOST=tcp://127.0.0.1:N): the latter is
// also how the tests reach an engine over tcp://.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface EngineProxy {
  /** The DOCKER_HOST value that reaches the engine through this proxy. */
  dockerHost: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function engineProxy(opts: { kind: "unix" | "tcp"; target?: string }): Promise<EngineProxy> {
  const target = opts.target ?? "/var/run/docker.sock";
  const dir = await mkdtemp(join(tmpdir(), "mq-engine-proxy-"));
  const path = join(dir, "docker.sock");
  const open = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;

  const listen = async () => {
    server = createServer((client) => {
      const engine = connect({ path: target });
      open.add(client).add(engine);
      const drop = () => {
        client.destroy();
        engine.destroy();
        open.delete(client);
        open.delete(engine);
      };
      client.on("error", drop).on("close", drop);
      engine.on("error", drop).on("close", drop);
      client.pipe(engine).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      if (opts.kind === "unix") server!.listen(path, resolve);
      else server!.listen(port, "127.0.0.1", resolve);
    });
    if (opts.kind === "tcp") port = (server!.address() as { port: number }).port;
  };
  const cut = async () => {
    const s = server;
    server = null;
    for (const socket of open) socket.destroy();
    open.clear();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    if (opts.kind === "unix") await rm(path, { force: true });
  };

  await listen();
  return {
    dockerHost: opts.kind === "unix" ? `unix://${path}` : `tcp://127.0.0.1:${port}`,
    cut,
    restore: listen,
    async close() {
      await cut();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
