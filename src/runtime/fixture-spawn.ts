// For tests: the fixture service (fixtures/service/server.js) started with the host's node on a
// loopback port it picks (MQ_PORT=0), the port read from its startup line. Imported by tests only,
// so it is not part of the build.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const FIXTURE_SERVER = fileURLToPath(new URL("../../fixtures/service/server.js", import.meta.url));

export interface SpawnedFixture {
  port: number;
  process: ChildProcess;
  /** stdout and stderr so far. */
  output: () => string;
  /** SIGKILL, resolved once it exited. */
  kill: () => Promise<void>;
}

/** Starts the fixture on 127.0.0.1 with `env` (and PATH); rejects with its output when it does not listen within 5 s. */
export async function spawnFixture(env: Record<string, string>): Promise<SpawnedFixture> {
  const child = spawn(process.execPath, [FIXTURE_SERVER], {
    env: { PATH: process.env.PATH ?? "", MQ_HOST: "127.0.0.1", MQ_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  };
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fixture did not print "listening" within 5 s; output:\n${out}`)), 5000);
      child.stdout.on("data", () => {
        const match = / listening on [\d.]+:(\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`fixture exited with ${code} before listening; output:\n${out}`));
      });
    });
    return { port, process: child, output: () => out, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}
