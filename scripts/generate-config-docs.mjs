#!/usr/bin/env node
// Writes config/schema.json and docs/configuration.md from the zod schema (run after `npm run build`).
import { writeFileSync } from "node:fs";
import { renderConfigSchemaJson, renderConfigurationMarkdown } from "../dist/config/configDocs.js";

const root = new URL("..", import.meta.url);
writeFileSync(new URL("config/schema.json", root), renderConfigSchemaJson());
writeFileSync(new URL("docs/configuration.md", root), renderConfigurationMarkdown());
console.log("wrote config/schema.json and docs/configuration.md");
