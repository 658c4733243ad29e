// A Kubernetes Service (core/v1) in an Istio import → the protocol of the meshquake service of the
// same name, read as Istio's protocol selection reads it: a port's appProtocol first, else the
// port name's prefix (up to the first "-"). Only the protocol is read; a port stating none, or one
// meshquake does not mesh (tcp, tls, https, mongo...), states nothing here, as it is not an error.
import { error, warning, type Finding } from "./finding.js";
import type { DocPath } from "./locate.js";
import type { Protocol } from "./protocols.js";
import { asList, asMap } from "./scenario-parts.js";
import { describeValue, quoteList } from "./wording.js";

/** Istio's protocol names (case-insensitive) → meshquake's. grpc-web is matched before the prefix is cut. */
export const ISTIO_PROTOCOLS: Readonly<Record<string, Protocol>> = {
  grpc: "grpc",
  "grpc-web": "http2",
  http2: "http2",
  h2c: "http2",
  "kubernetes.io/h2c": "http2",
  http: "http",
};

export interface ServiceProtocol {
  service: string;
  protocol: Protocol;
  /** Where the imported port states it. */
  path: DocPath;
}

interface PortProtocol {
  protocol: Protocol;
  path: DocPath;
  port: unknown;
}

/** The protocol a Service states for the scenario service it names; null (with the reason, if any) otherwise. */
export function serviceProtocol(data: Record<string, unknown>, services: readonly string[], findings: Finding[]): ServiceProtocol | null {
  if (data.apiVersion !== "v1") {
    findings.push(error(["apiVersion"], `expected apiVersion v1 for a Service, found ${describeValue(data.apiVersion)}`));
    return null;
  }
  const name = asMap(data.metadata).name;
  if (typeof name !== "string" || !services.includes(name)) {
    findings.push(
      warning(["metadata", "name"], `Service ${describeValue(name)} names no service of this scenario, so its protocol is not imported. Services: ${quoteList(services)}.`),
    );
    return null;
  }
  const stated = asList(asMap(data.spec).ports).flatMap((raw, i) => portProtocol(asMap(raw), ["spec", "ports", i], findings));
  const distinct = [...new Set(stated.map((p) => p.protocol))];
  if (distinct.length > 1) {
    const each = stated.map((p) => `${p.protocol} on ${describeValue(p.port)}`).join(", ");
    findings.push(
      warning(
        ["spec", "ports"],
        `the ports state different protocols (${each}) and meshquake meshes one port per service; none is imported: write services.${name}.protocol`,
        { at: "key" },
      ),
    );
    return null;
  }
  return stated[0] === undefined ? null : { service: name, protocol: stated[0].protocol, path: stated[0].path };
}

/** appProtocol first, else the port's name; UDP and SCTP ports are not proxied by Istio. */
function portProtocol(port: Record<string, unknown>, path: DocPath, findings: Finding[]): PortProtocol[] {
  if (port.protocol === "UDP" || port.protocol === "SCTP") return [];
  const field = port.appProtocol !== undefined ? "appProtocol" : port.name !== undefined ? "name" : null;
  if (field === null || typeof port[field] !== "string") return [];
  const word = (port[field] as string).toLowerCase();
  const name = word.startsWith("grpc-web") ? "grpc-web" : word.startsWith("kubernetes.io/") ? word : word.split("-")[0]!;
  const protocol = ISTIO_PROTOCOLS[name];
  if (protocol === undefined) return [];
  if (name === "grpc-web") {
    findings.push(warning([...path, field], "grpc-web is imported as http2, as Istio's sidecars treat it; meshquake's grpc is gRPC over h2c"));
  }
  return [{ protocol, path: [...path, field], port: port.port }];
}
