/**
 * `edgewarden backtest` and `edgewarden train` (issue #6 items 5 and 6), run as built CLIs on real
 * files: NAB's development series (test/fixtures/nab) and seeded CSV exports.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gaussian } from "../analytics/isolationForestFixtures.js";
import { assertBuilt, edgewarden } from "../helpers/daemon.js";
import { repoRoot } from "../helpers/paths.js";

let dir: string;
beforeAll(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), "ew-analytics-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configWith(name: string, tags: readonly string[], analytics: string): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(
    path,
    `gateway:\n  id: gw-test\n  site: lab\n  dataDir: ${join(dir, name)}\n` +
      `devices:\n  - name: sensor\n    protocol: serial-line\n    serial: { path: /dev/null }\n    parser: { format: key-value }\n    tags:\n` +
      tags.map((tag) => `      - { name: ${tag} }\n`).join("") +
      analytics,
  );
  return path;
}

describe("edgewarden backtest", () => {
  it("scores a timestamp,value CSV through the default detectors of a one-tag device, one JSON line per row", async () => {
    const config = await configWith("nab", ["value"], "");
    const csv = join(repoRoot, "test/fixtures/nab/ambient_temperature_system_failure.csv");
    const { code, stdout, stderr } = edgewarden(
      ["backtest", "-c", config, "--device", "sensor", "--csv", csv],
      {
        maxBuffer: 1 << 26,
      },
    );
    expect(stderr).toMatch(/no analytics in the config; using the default detectors/);
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const lines = (await readFile(csv, "utf8")).trim().split("\n").length - 1;
    expect(rows).toHaveLength(lines);
    expect(rows[0]).toEqual({
      ts: "2013-07-04T00:00:00.000Z",
      score: 0,
      anomaly: false,
      severity: null,
      type: null,
      alert: null,
    });
    for (const row of rows) {
      expect(Object.keys(row)).toEqual(["ts", "score", "anomaly", "severity", "type", "alert"]);
      expect(row.score).toBeGreaterThanOrEqual(0);
      expect(row.score).toBeLessThanOrEqual(1);
    }
    const anomalous = rows.filter((row) => row.anomaly === true);
    expect(anomalous.length).toBeGreaterThan(0);
    expect(anomalous.every((row) => row.type === "signal-outlier" && typeof row.severity === "string")).toBe(
      true,
    );
    const raised = rows.filter((row) => typeof row.alert === "string" && row.alert.includes("raised"));
    expect(raised.length).toBeGreaterThan(0);
    expect(raised.length).toBeLessThan(anomalous.length + 1);
  });

  it("trains the configured isolation forest on --train-rows and flags the injected rows only", async () => {
    const config = await configWith(
      "forest",
      ["a", "b"],
      "analytics:\n  machines:\n    - device: sensor\n      detectors:\n        isolationForest: { features: [a, b], seed: 3 }\n",
    );
    const normal = gaussian(11);
    const lines = ["timestamp,a,b"];
    for (let i = 0; i < 3_000; i++) {
      const fault = i >= 2_500 && i < 2_510;
      const a = fault ? 30 : 10 + normal();
      lines.push(`${1_700_000_000 + i * 60},${a.toFixed(3)},${(fault ? 90 : 2 * a + normal()).toFixed(3)}`);
    }
    const csv = join(dir, "forest.csv");
    await writeFile(csv, `${lines.join("\n")}\n`);
    const { code, stdout, stderr } = edgewarden(
      ["backtest", "-c", config, "--device", "sensor", "--csv", csv, "--train-rows", "2000"],
      { maxBuffer: 1 << 26 },
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const rows = stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { anomaly: boolean; type: string | null });
    expect(rows).toHaveLength(1_000);
    const flagged = rows.flatMap((row, i) => (row.anomaly ? [i + 2_000] : []));
    expect(flagged.filter((i) => i >= 2_500 && i < 2_510)).toHaveLength(10);
    expect(flagged.length).toBeLessThanOrEqual(10 + 5); // 99.5th percentile: about 5 false of 990
    expect(rows[500]?.type).toBe("multivariate");
  });

  it("refuses bad options and CSV rows it cannot read, naming FILE:LINE:COL", async () => {
    const config = await configWith("bad", ["value"], "");
    const csv = join(dir, "bad.csv");
    await writeFile(csv, "timestamp,value\n2020-01-01 00:00:00,1\nnot-a-time,2\n2020-01-01 00:02:00,3,4\n");
    const bad = edgewarden(["backtest", "-c", config, "--device", "sensor", "--csv", csv]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`${csv}:3:1: `));
    expect(bad.stderr).toMatch(new RegExp(`${csv}:4:\\d+: `));
    expect(bad.stdout.trim().split("\n")).toHaveLength(1);
    const unknown = edgewarden(["backtest", "-c", config, "--device", "nope", "--csv", csv]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no device named "nope"/);
    const rows = edgewarden([
      "backtest",
      "-c",
      config,
      "--device",
      "sensor",
      "--csv",
      csv,
      "--train-rows",
      "x",
    ]);
    expect(rows.code).toBe(2);
  });
});

describe("edgewarden train --from-csv", () => {
  it("saves the model with its card in the models directory, and says what it trained", async () => {
    const config = await configWith(
      "train",
      ["a", "b"],
      "analytics:\n  training: { minSamples: 100 }\n  machines:\n    - device: sensor\n      detectors:\n        isolationForest: { features: [a, b] }\n        streaming: { tags: [a] }\n",
    );
    const normal = gaussian(12);
    const lines = ["time;a;b"];
    for (let i = 0; i < 1_000; i++) {
      const a = 5 + normal();
      lines.push(
        `2026-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z;${a};${a * 3}`,
      );
    }
    const csv = join(dir, "train.csv");
    await writeFile(csv, `${lines.join("\n")}\n`);
    const { code, stderr } = edgewarden(["train", "-c", config, "--device", "sensor", "--from-csv", csv]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/sensor isolation-forest: trained on \d+ rows/);
    expect(stderr).toMatch(/sensor streaming: baselines of 1 tag\(s\) warmed on 1000 samples/);
    const stored = JSON.parse(
      await readFile(join(dir, "train", "models", "sensor", "isolation-forest.json"), "utf8"),
    ) as {
      card: { features: string[]; training: { source: string } };
    };
    expect(stored.card.features).toEqual(["a", "b"]);
    expect(stored.card.training.source).toBe("csv");
    const state = JSON.parse(
      await readFile(join(dir, "train", "models", "sensor", "state.json"), "utf8"),
    ) as {
      detectors: { streaming: { tags: Record<string, unknown> } };
    };
    expect(Object.keys(state.detectors.streaming.tags)).toEqual(["a"]);
    // From the ledger: there is none yet (the daemon never ran here), which is exit 1, said plainly.
    const noLedger = edgewarden(["train", "-c", config]);
    expect(noLedger.code).toBe(1);
    expect(noLedger.stderr).toMatch(/^edgewarden train: .*ledger/m);
    const noDevice = edgewarden(["train", "-c", config, "--from-csv", csv]);
    expect(noDevice.code).toBe(2);
    expect(noDevice.stderr).toMatch(/name it with --device/);
  });
});
