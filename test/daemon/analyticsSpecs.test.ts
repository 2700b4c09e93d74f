/**
 * The analytics component's config key (src/daemon/analyticsSpecs.ts): a reload rebuilds the stage,
 * saving and reloading every machine's state, only when something the stage reads has changed.
 */
import { describe, expect, it } from "vitest";
import { loadConfigText } from "../../src/config/loadConfig.js";
import { planComponents } from "../../src/daemon/composition.js";

function analyticsKey(options: { otherInterval: string; pressTags: string[] }): string {
  const tags = (names: string[]) => names.map((name) => `      - { name: ${name} }`).join("\n");
  const text = `gateway:
  id: gw-test
  site: lab
devices:
  - name: press
    protocol: serial-line
    serial: { path: /dev/null }
    parser: { format: key-value }
    tags:
${tags(options.pressTags)}
  - name: boiler
    protocol: modbus-tcp
    host: 127.0.0.1
    pollGroups:
      - name: fast
        interval: ${options.otherInterval}
        tags:
          - { name: t, table: holding, address: 0, type: uint16 }
analytics:
  machines:
    - device: press
`;
  const loaded = loadConfigText(text, { displayName: "test.yaml", baseDir: "/tmp", env: {} });
  if (!loaded.ok) {
    throw new Error(loaded.errors.map((e) => e.message).join("\n"));
  }
  const spec = planComponents(loaded.config).find((candidate) => candidate.id === "analytics");
  if (spec === undefined) {
    throw new Error("no analytics component");
  }
  return spec.configKey;
}

describe("the analytics component's config key", () => {
  it("stays when a device without analytics changes, and changes with the analysed device's tags", () => {
    const base = analyticsKey({ otherInterval: "1s", pressTags: ["power", "temp"] });
    expect(analyticsKey({ otherInterval: "5s", pressTags: ["power", "temp"] })).toBe(base);
    expect(analyticsKey({ otherInterval: "1s", pressTags: ["power", "temp", "vibration"] })).not.toBe(base);
  });
});
