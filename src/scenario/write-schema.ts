// Writes schema/scenario.schema.json from the zod schema: `npx tsx src/scenario/write-schema.ts`.
// A unit test fails when the committed file is out of date.
import { writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { scenarioJsonSchema } from "./spec.js";

export const SCHEMA_FILE = fileURLToPath(new URL("../../schema/scenario.schema.json", import.meta.url));

export function schemaFileText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(SCHEMA_FILE, schemaFileText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
