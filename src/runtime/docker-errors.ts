// The two ways reaching the Docker engine fails, apart from the client that reaches it, so the CLI
// can tell them apart (exit 2 or 3) without loading the engine client.

export class DockerUnavailableError extends Error {
  constructor(cause: unknown, where = "") {
    super(
      `Docker engine${where ? ` at ${where}` : ""} unreachable (${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Start one, or run \`npm run setup\`, which installs and starts Debian's docker.io when run as root.`,
    );
    this.name = "DockerUnavailableError";
  }
}

/** DOCKER_HOST (or its companions) names something meshquake cannot use: a usage error. */
export class DockerHostError extends Error {
  override name = "DockerHostError";
}
