import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import { FAULT_KINDS, scenarioJsonSchema, type FaultSpec } from "./spec.js";
import type { FaultKind } from "./types.js";
import { SCHEMA_FILE, schemaFileText } from "./write-schema.js";

describe("scenario spec", () => {
  it("knows every fault kind of the resolved contract", () => {
    expectTypeOf<FaultSpec["kind"]>().toEqualTypeOf<FaultKind>();
    expect([...FAULT_KINDS].sort()).toEqual(["abort", "bandwidth", "blackhole", "delay", "kill", "partition", "pause", "ratelimit", "reset", "shift"]);
  });

  it("produces a strict draft-07 JSON Schema", () => {
    const schema = scenarioJsonSchema();
    expect(schema).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      additionalProperties: false,
      required: ["name"],
      // services, or a compose file to import them from
      anyOf: [{ required: ["services"] }, { required: ["topology"] }],
    });
  });

  it("schema/scenario.schema.json is up to date (regenerate: npx tsx src/scenario/write-schema.ts)", () => {
    expect(readFileSync(SCHEMA_FILE, "utf8")).toBe(schemaFileText());
  });
});
