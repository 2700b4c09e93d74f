import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderConfigSchemaJson, renderConfigurationMarkdown } from "../../src/config/configDocs.js";
import { isPathKey, loadConfigFile } from "../../src/config/loadConfig.js";

const root = join(import.meta.dirname, "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");

describe("artefacts derived from the schema", () => {
  it("config/schema.json is what the schema generates (run `npm run generate` if this fails)", () => {
    expect(read("config/schema.json")).toBe(renderConfigSchemaJson());
  });

  it("docs/configuration.md is what the schema generates (run `npm run generate` if this fails)", () => {
    expect(read("docs/configuration.md")).toBe(renderConfigurationMarkdown());
  });

  it("every key the schema marks as a path follows the ...File/...Dir/dir naming the loader resolves", () => {
    const pathKeys: string[] = [];
    const otherKeys: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(walk);
        return;
      }
      if (node === null || typeof node !== "object") {
        return;
      }
      const properties = (node as { properties?: Record<string, { format?: string }> }).properties;
      for (const [key, schema] of Object.entries(properties ?? {})) {
        (schema.format === "path" ? pathKeys : otherKeys).push(key);
      }
      Object.values(node).forEach(walk);
    };
    walk(JSON.parse(read("config/schema.json")));
    expect(pathKeys.length).toBeGreaterThan(5);
    expect(pathKeys.filter((key) => !isPathKey(key))).toEqual([]);
    expect(otherKeys.filter((key) => isPathKey(key))).toEqual([]);
  });
});

describe("example configs", () => {
  // plant-sim.yaml is the simulator's plant file and plant-sim.devices.yaml a devices section to
  // paste: the simulator's tests load and poll both (test/simulator/). receiver.example.yaml is
  // the receiver's own file (its own schema): test/receiver/receiverConfig.test.ts loads it.
  const examples = readdirSync(join(root, "config")).filter(
    (name) => name.endsWith(".yaml") && !name.startsWith("plant-sim.") && !name.startsWith("receiver."),
  );

  it("there is at least the plant example", () => {
    expect(examples).toContain("example.yaml");
  });

  for (const name of examples) {
    it(`config/${name} starts with the yaml-language-server schema modeline and is valid`, async () => {
      const text = read(`config/${name}`);
      expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=./schema.json");
      const result = await loadConfigFile(join(root, "config", name), { env: {} });
      expect(result.ok ? [] : result.errors).toEqual([]);
      expect(result.warnings).toEqual([]);
    });
  }
});
