// The fixture's grpc mode in the mesh image, on its Node 18 with the modules the image carries:
// two containers on a network of their own (checkout calls payments by name with @grpc/grpc-js),
// called from the host over a published 127.0.0.1 port. Everything carries this run's label.
import net from "node:net";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, describe, expect, it } from "vitest";
import { labelled, testDocker, testImage } from "./docker-env.js";

const PROTO = fileURLToPath(new URL("../../fixtures/service/meshquake.proto", import.meta.url));
const RUN_ID = `dev-grpc-fixture-${process.pid}-${Date.now().toString(36)}`;
const LABELS = { "meshquake.run-id": RUN_ID };
const docker = testDocker();

afterAll(async () => {
  const label = { label: [`meshquake.run-id=${RUN_ID}`] };
  for (const c of await docker.listContainers({ all: true, filters: label })) await docker.getContainer(c.Id).remove({ force: true });
  for (const n of await docker.listNetworks({ filters: label })) await docker.getNetwork(n.Id).remove();
  expect(await labelled(docker, RUN_ID)).toEqual({ containers: 0, networks: 0 });
});

function http10Status(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write("GET /healthz HTTP/1.0\r\n\r\n"));
    let out = "";
    socket.on("data", (chunk: Buffer) => (out += chunk.toString()));
    socket.on("end", () => resolve(out.split("\r\n")[0] ?? ""));
    socket.on("error", () => resolve(""));
  });
}

describe("the fixture in grpc mode, in the mesh image", () => {
  it("answers Call from the host, through a downstream call by service name", async () => {
    const image = await testImage();
    const network = `${RUN_ID}-net`;
    await docker.createNetwork({ Name: network, Labels: LABELS, Driver: "bridge" });
    const start = async (service: string, env: string[], publish: boolean) => {
      const container = await docker.createContainer({
        name: `${RUN_ID}-${service}`,
        Image: image,
        Labels: LABELS,
        Env: ["MQ_PROTOCOL=grpc", `MQ_SERVICE=${service}`, ...env],
        ExposedPorts: { "8080/tcp": {} },
        HostConfig: { NetworkMode: network, PortBindings: publish ? { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } : {} },
        NetworkingConfig: { EndpointsConfig: { [network]: { Aliases: [service] } } },
      });
      await container.start();
      return container;
    };
    await start("payments", ["MQ_REPLICA=1", "MQ_VERSION=v2"], false);
    const checkout = await start("checkout", ["MQ_CALLS=payments:8080"], true);
    const port = Number((await checkout.inspect()).NetworkSettings.Ports["8080/tcp"]?.[0]?.HostPort);

    // As the harness's readiness probe: HTTP/1.0 GET /healthz on the gRPC port.
    const deadline = Date.now() + 10_000;
    let status = "";
    while (Date.now() < deadline && !(status = await http10Status(port)).includes(" 200 ")) await new Promise((r) => setTimeout(r, 100));
    const logs = () => docker.getContainer(`${RUN_ID}-checkout`).logs({ stdout: true, stderr: true }).then(String);
    expect(status, `no 200 from /healthz within 10 s; log:\n${await logs()}`).toBe("HTTP/1.1 200 OK");
    expect(await logs()).toContain("fixture checkout-0 listening on 0.0.0.0:8080 protocol=grpc");

    const definition = protoLoader.loadSync(PROTO, { keepCase: false, longs: String, defaults: true });
    const Fixture = (grpc.loadPackageDefinition(definition).meshquake as grpc.GrpcObject).Fixture as grpc.ServiceClientConstructor;
    const client = new Fixture(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const reply = await new Promise<unknown>((resolve, reject) =>
        (client as unknown as { Call: (r: object, cb: (e: Error | null, r?: unknown) => void) => void }).Call({ payload: "hi" }, (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(reply).toEqual({
        service: "checkout",
        replica: 0,
        version: "",
        seq: 0,
        calls: [{ service: "payments", code: 0, servedBy: "payments-1", error: "" }],
      });
    } finally {
      client.close();
    }
    const stopping = performance.now();
    await checkout.stop({ t: 10 });
    expect(performance.now() - stopping).toBeLessThan(3000);
    expect((await checkout.inspect()).State.ExitCode).toBe(0);
  });
});
