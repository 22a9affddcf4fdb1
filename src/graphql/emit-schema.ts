import "reflect-metadata";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { printGatewaySchema } from "./schema.js";

/** `npm run schema:emit`: writes the SDL the code defines to schema/schema.graphql (run from dist/src/graphql). */
export const SCHEMA_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../schema/schema.graphql");

writeFileSync(SCHEMA_FILE, printGatewaySchema());
process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
