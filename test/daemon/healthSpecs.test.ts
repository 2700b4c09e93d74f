/**
 * How health on MQTT is wired into the composition root (issue #7 item 3): with the uplink on and
 * observability.health.enabled, `health-publisher` runs after the sources and before the status
 * server, and the status collector runs even with the loopback endpoint off (the sources report to
 * it); with health off or the uplink off there is no publisher, and no collector unless the
 * endpoint wants one. It depends on the keys only when it seals.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfigFile } from "../../src/config/loadConfig.js";
import type { Config } from "../../src/config/schema/index.js";
import { planComponents } from "../../src/daemon/composition.js";
import { repoRoot } from "../helpers/paths.js";

async function exampleConfig(options: {
  readonly status: boolean;
  readonly health: boolean;
  readonly uplink?: boolean;
  readonly encryption?: "ascon-aead128" | "none";
}): Promise<Config> {
  const loaded = await loadConfigFile(join(repoRoot, "config", "example.yaml"));
  if (!loaded.ok) {
    throw new Error(JSON.stringify(loaded.errors));
  }
  const { config } = loaded;
  const uplink = config.uplink;
  if (uplink === undefined) {
    throw new Error("config/example.yaml has no uplink");
  }
  return {
    ...config,
    uplink: { ...uplink, enabled: options.uplink ?? true },
    crypto: { ...config.crypto, encryption: options.encryption ?? "ascon-aead128" },
    observability: {
      ...config.observability,
      status: { ...config.observability.status, enabled: options.status },
      health: { ...config.observability.health, enabled: options.health },
    },
  };
}

describe("the health wiring", () => {
  it("runs the collector for health with the endpoint off, and the publisher after the sources", async () => {
    const specs = planComponents(await exampleConfig({ status: false, health: true }));
    const ids = specs.map((spec) => spec.id);
    expect(ids).toContain("status-collector");
    expect(ids).not.toContain("status-server");
    const publisher = specs.find((spec) => spec.id === "health-publisher");
    expect(publisher?.dependsOn).toEqual(
      expect.arrayContaining([
        "status-collector",
        "ledger",
        "uplink-session",
        "uplink-forwarder",
        "gateway-keys",
      ]),
    );
    const publisherAt = ids.indexOf("health-publisher");
    const sources = specs.filter((spec) => /^(bus:|serial-line:)/.test(spec.id) || spec.id === "self-health");
    expect(sources.length).toBeGreaterThan(1);
    for (const source of sources) {
      expect(source.dependsOn, source.id).toContain("status-collector");
      expect(ids.indexOf(source.id), source.id).toBeLessThan(publisherAt);
    }
  });

  it("comes before the status server, which stays last", async () => {
    const ids = planComponents(await exampleConfig({ status: true, health: true })).map((spec) => spec.id);
    expect(ids.at(-1)).toBe("status-server");
    expect(ids.at(-2)).toBe("health-publisher");
  });

  it("does not depend on the gateway keys when records go in clear", async () => {
    const specs = planComponents(await exampleConfig({ status: false, health: true, encryption: "none" }));
    expect(specs.find((spec) => spec.id === "health-publisher")?.dependsOn).not.toContain("gateway-keys");
  });

  it.each([
    ["health is off", { status: false, health: false }],
    ["the uplink is off", { status: false, health: true, uplink: false }],
  ])("adds neither publisher nor collector when %s", async (_case, options) => {
    const ids = planComponents(await exampleConfig(options)).map((spec) => spec.id);
    expect(ids).not.toContain("health-publisher");
    expect(ids).not.toContain("status-collector");
  });
});
