/**
 * Analytics in the real daemon (issue #6): a serial-line sensor on a pty feeds a machine with a
 * streaming detector and an isolation forest. The learning period ends after a few seconds; the
 * daemon then trains from its own ledger in a worker thread while the sensor keeps being read,
 * swaps the model in, and records an injected fault as an anomaly in the ledger. After a restart
 * the models are loaded from the models directory.
 */

import { realpathSync } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { gaussian } from "../analytics/isolationForestFixtures.js";
import {
  assertBuilt,
  configText,
  edgewardenAsync,
  hasEvent,
  hasMsg,
  ledgerEntries,
  RUNNING,
  spawnDaemon,
} from "../helpers/daemon.js";
import { CLEAN_EXIT, useResources } from "../helpers/lifecycle.js";
import { startPtyPair } from "../helpers/ptyPair.js";

const current = useResources();

function config(dataDir: string, serialPath: string): string {
  return (
    configText({ dataDir }) +
    [
      "devices:",
      "  - name: press",
      "    protocol: serial-line",
      "    serial:",
      `      path: ${serialPath}`,
      "    parser:",
      "      format: key-value",
      "    staleAfter: 1h",
      "    tags:",
      "      - { name: power, field: P }",
      "      - { name: temp, field: T }",
      "analytics:",
      "  learningPeriod: 4s",
      "  training: { minSamples: 100, history: 1d }",
      "  machines:",
      "    - device: press",
      "      detectors:",
      "        streaming: { tags: [temp] }",
      "        isolationForest: { features: [power, temp], trees: 30 }",
      "",
    ].join("\n")
  );
}

describe("analytics in the daemon", () => {
  it("learns, trains from the ledger off the poll path, records an injected fault, and reloads its models after a restart", async () => {
    assertBuilt();
    const resources = current();
    const dir = await resources.tempDir("edgewarden-analytics-");
    const dataDir = join(dir, "data");
    const pty = resources.track(await startPtyPair(dir));
    const configPath = join(dir, "config.yaml");
    await (await import("node:fs/promises")).writeFile(configPath, config(dataDir, realpathSync(pty.a)));

    const sensor = await open(pty.b, "w");
    const normal = gaussian(31);
    let fault = false;
    let written = 0;
    const feeder = setInterval(() => {
      const power = fault ? 400 : 40 + normal();
      const temp = fault ? 150 : 60 + 0.2 * power + 0.5 * normal();
      written++;
      void sensor.write(`P=${power.toFixed(2)} T=${temp.toFixed(2)}\n`);
    }, 20);
    try {
      const daemon = spawnDaemon(resources, { config: configPath });
      await daemon.waitFor(RUNNING, "the daemon to run");
      const ready = await daemon.waitFor(hasMsg("analytics ready"), "analytics to load");
      expect(ready).toMatchObject({
        device: "press",
        detectors: ["streaming"],
        untrained: ["isolation-forest"],
      });
      await daemon.waitFor(hasEvent("analytics.learning-ended"), "the learning period to end", {
        timeoutMs: 20_000,
      });
      const writtenAtStart = written;
      const trained = await daemon.waitFor(hasEvent("analytics.trained"), "the training", {
        timeoutMs: 60_000,
      });
      expect(trained.event).toMatchObject({ details: { device: "press", trained: ["isolation-forest"] } });
      expect(written - writtenAtStart).toBeGreaterThan(0);

      fault = true;
      // The fault lasts until the daemon has read it and raised the alert (a loaded CI machine
      // may read the pty seconds late), then the sensor reads normal again for a while.
      const raisedLine = await daemon.waitFor(
        (line) =>
          typeof line.msg === "string" && line.msg.startsWith("anomaly raised") && line.device === "press",
        "the anomaly to be raised",
        { timeoutMs: 30_000 },
      );
      fault = false;
      expect(raisedLine).toMatchObject({ state: "raised" });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      daemon.signal("SIGTERM");
      expect(await daemon.waitForExit()).toEqual(CLEAN_EXIT);

      const entries = ledgerEntries(join(dataDir, "ledger"));
      const anomalies = entries.filter((entry) => entry.kind === "anomaly");
      expect(anomalies.length).toBeGreaterThanOrEqual(1);
      const raised = anomalies
        .map((entry) => entry.body as Record<string, unknown>)
        .find((b) => b.state === "raised");
      expect(raised).toMatchObject({ device: "press", kind: "anomaly" });
      expect(((raised?.detectors ?? []) as { detector: string }[]).map((d) => d.detector)).toContain(
        "isolation-forest",
      );
      // Polling went on while the model trained: samples span the training without a pause.
      const samples = entries.filter((entry) => entry.kind === "sample" && entry.device === "press");
      const gaps = samples.slice(1).map((entry, i) => (entry.ts as number) - (samples[i]?.ts as number));
      expect(Math.max(...gaps)).toBeLessThan(1_000);
      const card = JSON.parse(
        await readFile(join(dataDir, "models", "press", "isolation-forest.json"), "utf8"),
      ) as {
        card: { features: string[]; training: { source: string; rows: number } };
      };
      expect(card.card.features).toEqual(["power", "temp"]);
      expect(card.card.training.source).toBe("ledger");

      const again = spawnDaemon(resources, { config: configPath });
      const reloaded = await again.waitFor(hasMsg("analytics ready"), "analytics to load after the restart");
      expect(reloaded).toMatchObject({
        device: "press",
        detectors: ["streaming", "isolation-forest"],
        untrained: [],
      });
      await again.waitFor(RUNNING, "the daemon to run again");
      // `train` cannot read a ledger the daemon holds; it says how to ask the daemon instead.
      const busy = await edgewardenAsync(["train", "-c", configPath]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/in use .*SIGUSR2/);
      again.signal("SIGUSR2");
      const retrained = await again.waitFor(
        (line) =>
          hasEvent("analytics.trained")(line) &&
          (line.event as { details?: { reason?: string } }).details?.reason === "request",
        "the requested retrain",
        { timeoutMs: 60_000 },
      );
      expect(retrained.event).toMatchObject({ details: { device: "press", trained: ["isolation-forest"] } });
      again.signal("SIGTERM");
      expect(await again.waitForExit()).toEqual(CLEAN_EXIT);
    } finally {
      clearInterval(feeder);
      await sensor.close();
    }
  }, 120_000);
});
