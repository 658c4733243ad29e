import Docker from "dockerode";

export type { default as Docker } from "dockerode";

export class DockerUnavailableError extends Error {
  constructor(cause: unknown) {
    super(
      `Docker engine unreachable (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Start one, or run \`npm run setup\`, which installs and starts Debian's docker.io when run as root.`,
    );
    this.name = "DockerUnavailableError";
  }
}

/** Connects to the engine named by DOCKER_HOST (or the default socket) and checks it answers. */
export async function connectDocker(env: NodeJS.ProcessEnv = process.env): Promise<{ docker: Docker; version: string }> {
  const docker = env.DOCKER_HOST ? new Docker({ host: env.DOCKER_HOST }) : new Docker();
  try {
    const v = await docker.version();
    return { docker, version: `${v.Version} (API ${v.ApiVersion})` };
  } catch (err) {
    throw new DockerUnavailableError(err);
  }
}
