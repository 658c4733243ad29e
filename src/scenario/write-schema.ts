// Writes schema/scenario.schema.json from the zod schema: `npx tsx src/scenario/write-schema.ts`.
// A unit test fails when the committed file is out of date.
import { writeFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { SCENARIO_SCHEMA_FILE } from "../util/package-root.js";
import { scenarioJsonSchema } from "./spec.js";

export const SCHEMA_FILE = SCENARIO_SCHEMA_FILE;

export function schemaFileText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(SCHEMA_FILE, schemaFileText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
