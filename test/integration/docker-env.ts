// Shared by the Docker-backed tests: one engine connection and one image build per test run.
import Docker from "dockerode";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureImages } from "../../src/runtime/images.js";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

let docker: Docker | null = null;
let image: Promise<string> | null = null;

export function testDocker(): Docker {
  docker ??= new Docker();
  return docker;
}

/** The content-hashed mesh image; built once, reused by every test file after that. */
export function testImage(): Promise<string> {
  image ??= ensureImages(testDocker(), { projectRoot: PROJECT_ROOT, log: () => {} }).then((r) => r.image);
  return image;
}

/** How many containers and networks still carry a run's label. */
export async function labelled(d: Docker, runId: string): Promise<{ containers: number; networks: number }> {
  const label = { label: [`meshquake.run-id=${runId}`] };
  const [c, n] = await Promise.all([d.listContainers({ all: true, filters: label }), d.listNetworks({ filters: label })]);
  return { containers: c.length, networks: n.length };
}
