// Every fault kind and the injector that switches it. A kind added to FaultKind without an
// injector here does not compile.
import type { FaultKind } from "../scenario/types.js";
import { killInjector, pauseInjector } from "./container-injectors.js";
import type { FaultInjector } from "./injector.js";
import { bandwidthInjector, partitionInjector } from "./network-injectors.js";
import { shiftInjector } from "./shift-injector.js";
import { abortInjector, blackholeInjector, delayInjector, ratelimitInjector, resetInjector } from "./runtime-injectors.js";

export type FaultRegistry = { readonly [K in FaultKind]: FaultInjector<K> };

export const FAULT_INJECTORS = {
  abort: abortInjector,
  delay: delayInjector,
  blackhole: blackholeInjector,
  reset: resetInjector,
  ratelimit: ratelimitInjector,
  partition: partitionInjector,
  kill: killInjector,
  pause: pauseInjector,
  bandwidth: bandwidthInjector,
  shift: shiftInjector,
} satisfies FaultRegistry;

/** The injector of a fault's kind, typed for any fault. */
export function injectorFor(registry: FaultRegistry, kind: FaultKind): FaultInjector {
  return registry[kind] as unknown as FaultInjector;
}
