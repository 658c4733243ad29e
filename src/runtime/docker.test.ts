import { homedir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeEndpoint, dockerClient, DockerHostError, dockerOptions, parseDockerHost, sharesFilesystem, streamingClient } from "./docker.js";

describe("DOCKER_HOST, read as the docker CLI reads it", () => {
  it("unset or empty: the local socket", () => {
    expect(parseDockerHost({})).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
    expect(parseDockerHost({ DOCKER_HOST: "" })).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
  });

  it("unix:///path: that socket (rootless Docker, a second engine)", () => {
    expect(parseDockerHost({ DOCKER_HOST: "unix:///run/user/1000/docker.sock" })).toEqual({ kind: "unix", socketPath: "/run/user/1000/docker.sock" });
    expect(dockerOptions(parseDockerHost({ DOCKER_HOST: "unix:///tmp/d.sock" }))).toMatchObject({ socketPath: "/tmp/d.sock", timeout: 20_000 });
  });

  it("tcp://host:port over HTTP; the port defaults to 2375, or 2376 with TLS", () => {
    expect(parseDockerHost({ DOCKER_HOST: "tcp://127.0.0.1:23750" })).toEqual({ kind: "tcp", host: "127.0.0.1", port: 23750, tls: null });
    expect(parseDockerHost({ DOCKER_HOST: "tcp://docker" })).toEqual({ kind: "tcp", host: "docker", port: 2375, tls: null });
    expect(parseDockerHost({ DOCKER_HOST: "tcp://[::1]:2375" })).toMatchObject({ host: "::1", port: 2375 });
    expect(dockerOptions(parseDockerHost({ DOCKER_HOST: "tcp://127.0.0.1:23750" }))).toMatchObject({ protocol: "http", host: "127.0.0.1", port: 23750 });
  });

  it("DOCKER_TLS_VERIFY turns tcp:// into TLS with the certificates in DOCKER_CERT_PATH (default ~/.docker)", () => {
    expect(parseDockerHost({ DOCKER_HOST: "tcp://ci-docker", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs/client" })).toEqual({
      kind: "tcp",
      host: "ci-docker",
      port: 2376,
      tls: { certPath: "/certs/client", verify: true },
    });
    expect(parseDockerHost({ DOCKER_HOST: "https://ci-docker:2376" })).toMatchObject({ tls: { certPath: join(homedir(), ".docker"), verify: false } });
    expect(() => dockerOptions(parseDockerHost({ DOCKER_HOST: "tcp://h", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/nonexistent" }))).toThrow(
      /cannot read \/nonexistent\/ca.pem \(ENOENT\); set DOCKER_CERT_PATH/,
    );
  });

  it("http:// is plain tcp://", () => {
    expect(parseDockerHost({ DOCKER_HOST: "http://localhost:2375" })).toEqual({ kind: "tcp", host: "localhost", port: 2375, tls: null });
  });

  it("refuses, saying what to use, what it cannot reach", () => {
    const refused = (value: string) => {
      try {
        parseDockerHost({ DOCKER_HOST: value });
      } catch (err) {
        expect(err).toBeInstanceOf(DockerHostError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${value}`);
    };
    expect(refused("ssh://me@build-host")).toMatch(/ssh:\/\/ engines are not supported\. Forward the remote socket .*DOCKER_HOST=unix:\/\//);
    expect(refused("localhost:2375")).toMatch(/has no scheme: expected unix:\/\/\/path\/to\/docker.sock or tcp:\/\/host:port/);
    expect(refused("npipe:////./pipe/docker_engine")).toMatch(/npipe:\/\/ is not supported here/);
    expect(refused("fd://")).toMatch(/fd:\/\/ is not supported here/);
    expect(refused("unix://relative.sock")).toMatch(/needs an absolute path/);
    expect(refused("tcp://:2375")).toMatch(/names no host|not a valid address/);
    expect(refused("tcp://host:2375/prefix")).toMatch(/a path after the host is not supported/);
  });

  it("says where the engine is", () => {
    expect(describeEndpoint(parseDockerHost({}))).toBe("unix:///var/run/docker.sock");
    expect(describeEndpoint({ kind: "tcp", host: "h", port: 2376, tls: { certPath: "/c", verify: true } })).toBe("tcp://h:2376 (TLS)");
  });

  it("calls get a deadline; streams come from a sibling client without one", () => {
    const docker = dockerClient({ kind: "unix", socketPath: "/tmp/x.sock" });
    expect((docker.modem as unknown as { timeout?: number }).timeout).toBe(20_000);
    const streams = streamingClient(docker);
    expect(streams).not.toBe(docker);
    expect((streams.modem as unknown as { timeout?: number }).timeout).toBeUndefined();
    expect((streams.modem as unknown as { socketPath?: string }).socketPath).toBe("/tmp/x.sock");
  });

  it("only an engine on this machine shares its paths (not a remote one, not Docker Desktop's VM, not the host of a container we run in)", () => {
    const unix = dockerClient({ kind: "unix", socketPath: "/var/run/docker.sock" });
    const debian = { Name: "vm", OperatingSystem: "Debian GNU/Linux 12 (bookworm)" };
    expect(sharesFilesystem(unix, debian, "vm")).toBe(true);
    expect(sharesFilesystem(dockerClient({ kind: "tcp", host: "127.0.0.1", port: 2375, tls: null }), debian, "vm")).toBe(true);
    expect(sharesFilesystem(dockerClient({ kind: "tcp", host: "10.0.0.5", port: 2375, tls: null }), debian, "vm")).toBe(false);
    expect(sharesFilesystem(unix, { Name: "docker-desktop", OperatingSystem: "Docker Desktop" }, "my-mac")).toBe(false);
    expect(sharesFilesystem(unix, debian, "3f2a1b9c8d7e")).toBe(false);
  });
});
