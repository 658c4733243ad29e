// A gRPC load's call made concrete from its proto: the method looked up, the message checked
// against the request type and encoded once. The open generator's thread does this before its
// warm-up, and `run` does it before the topology starts, so a method the proto does not have
// is said before any container runs. @grpc/proto-loader (protobufjs) is loaded here only: never
// by `meshquake validate`, which checks the call's shape alone.
import { existsSync } from "node:fs";
import { loadSync, type MethodDefinition, type PackageDefinition } from "@grpc/proto-loader";
import type { GrpcCall } from "../scenario/types.js";
import { grpcFrame } from "./grpc-frame.js";

export interface EncodedCall {
  /** The request path, /package.Service/Method. */
  path: string;
  /** The request message, framed (flag, length, bytes): what every call's body is. */
  frame: Uint8Array;
}

/** Thrown when the call does not fit its proto; the message says why and what the proto has. */
export class GrpcCallError extends Error {
  override name = "GrpcCallError";
}

/** The call's method and message, checked against its proto and encoded; a GrpcCallError when they do not fit. */
export function encodeCall(call: Pick<GrpcCall, "method" | "message" | "protoFile">): EncodedCall {
  const method = findMethod(loadProto(call.protoFile), call.method, call.protoFile);
  const message = camelCaseKeys(call.message);
  checkFields(message, method, call.method);
  let bytes: Buffer;
  try {
    bytes = method.requestSerialize(message);
  } catch (err) {
    throw new GrpcCallError(`load.message does not fit ${requestTypeName(method)}, the request type of ${call.method}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { path: `/${call.method}`, frame: grpcFrame(bytes) };
}

function loadProto(file: string): PackageDefinition {
  if (!existsSync(file)) throw new GrpcCallError(`the gRPC load's proto ${file} does not exist`);
  try {
    // camelCase fields and longs as strings: how the message reads in JSON.
    return loadSync(file, { keepCase: false, longs: String, defaults: true });
  } catch (err) {
    throw new GrpcCallError(`the gRPC load's proto ${file} could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Services of a loaded proto, each with its methods' names. */
export function servicesOf(definition: PackageDefinition): Map<string, string[]> {
  const services = new Map<string, string[]>();
  for (const [name, entry] of Object.entries(definition)) {
    // A message or enum type carries a `format`; a service is a map of method definitions.
    if ("format" in entry) continue;
    services.set(name, Object.keys(entry));
  }
  return services;
}

function findMethod(definition: PackageDefinition, method: string, file: string): MethodDefinition<object, object> {
  const slash = method.lastIndexOf("/");
  const service = method.slice(0, slash);
  const name = method.slice(slash + 1);
  const entry = definition[service];
  const found = entry !== undefined && !("format" in entry) ? (entry as Record<string, MethodDefinition<object, object> | undefined>)[name] : undefined;
  if (found !== undefined && Object.hasOwn(entry!, name)) return found;
  const services = servicesOf(definition);
  const has =
    services.size === 0
      ? "it defines no service"
      : `it has ${[...services].map(([s, methods]) => `${s} (${methods.join(", ") || "no methods"})`).join("; ")}`;
  const what = services.has(service) ? `service ${service} has no method ${name}` : `there is no service ${service}`;
  throw new GrpcCallError(`load.method ${method} is not in ${file}: ${what}; ${has}`);
}

interface FieldDescriptor {
  name: string;
  jsonName?: string;
}

function requestTypeName(method: MethodDefinition<object, object>): string {
  return (method.requestType.type as { name?: string }).name ?? "its request type";
}

/** Every top-level key of the message must be a field of the request type (protobufjs would drop it silently). */
function checkFields(message: Record<string, unknown>, method: MethodDefinition<object, object>, methodName: string): void {
  const fields = ((method.requestType.type as { field?: FieldDescriptor[] }).field ?? []).map((f) => f.jsonName || camelCase(f.name));
  const unknown = Object.keys(message).filter((k) => !fields.includes(k));
  if (unknown.length === 0) return;
  const type = requestTypeName(method);
  throw new GrpcCallError(
    `load.message has ${unknown.length === 1 ? "a field" : "fields"} ${unknown.join(", ")} that ${type}, the request type of ${methodName}, does not: ` +
      (fields.length === 0 ? "it has no fields" : `it has ${fields.join(", ")}`),
  );
}

/** Proto field names as written (snake_case) or in JSON (camelCase): protobufjs reads camelCase. */
function camelCaseKeys(message: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(message).map(([k, v]) => [camelCase(k), v]));
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
