import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const unitPath = path.join(repoRoot, "systemd", "edgewarden.service");

// Highest overall exposure DESIGN.md allows for the production unit.
const MAX_EXPOSURE = 2.0;

const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
const hasSystemdAnalyze = probe.error === undefined && probe.status === 0;

type UnitFile = Map<string, Map<string, string[]>>;

/**
 * Parses a systemd unit file the way systemd reads assignments: comments start with # or ;,
 * a trailing backslash continues the line, a key may repeat (list settings accumulate) and an
 * empty assignment resets the list.
 */
function parseUnit(text: string): UnitFile {
  const sections: UnitFile = new Map();
  let current: Map<string, string[]> | undefined;
  let pending = "";
  for (const raw of text.split("\n")) {
    const line = pending + raw.trim();
    pending = "";
    if (line.endsWith("\\")) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    if (line === "" || line.startsWith("#") || line.startsWith(";")) {
      continue;
    }
    const header = /^\[(.+)\]$/.exec(line);
    if (header?.[1] !== undefined) {
      current = new Map();
      sections.set(header[1], current);
      continue;
    }
    const eq = line.indexOf("=");
    if (current === undefined || eq < 1) {
      throw new Error(`unparsable unit line: ${line}`);
    }
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const values = current.get(key) ?? [];
    current.set(key, value === "" ? [] : [...values, value]);
  }
  return sections;
}

function values(unit: UnitFile, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

function last(unit: UnitFile, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && ["1", "yes", "y", "true", "t", "on"].includes(value.toLowerCase());
}

async function loadUnit(): Promise<UnitFile> {
  return parseUnit(await readFile(unitPath, "utf8"));
}

describe("systemd/edgewarden.service", () => {
  it.skipIf(!hasSystemdAnalyze)(
    `has an overall exposure of at most ${MAX_EXPOSURE} in systemd-analyze security`,
    () => {
      const result = spawnSync("systemd-analyze", ["security", "--offline=yes", unitPath], {
        encoding: "utf8",
      });
      expect(result.error).toBeUndefined();
      const match = /Overall exposure level for edgewarden\.service: (\d+\.\d+)/.exec(result.stdout);
      expect(match, `no exposure line in:\n${result.stdout}\n${result.stderr}`).not.toBeNull();
      const exposure = Number.parseFloat(match?.[1] ?? "NaN");
      expect(exposure).toBeLessThanOrEqual(MAX_EXPOSURE);
      // A misspelt hardening key is silently ignored by systemd and would only show up here.
      expect(result.stderr).not.toMatch(/Unknown (key|lvalue|section)/i);
    },
  );

  it("is a notify service with a watchdog, restarted on failure", async () => {
    const unit = await loadUnit();
    expect(last(unit, "Service", "Type")).toBe("notify");
    // The notify datagrams come from a helper child, not the main PID.
    expect(last(unit, "Service", "NotifyAccess")).toBe("all");
    const watchdog = last(unit, "Service", "WatchdogSec");
    expect(watchdog).toBeDefined();
    expect(watchdog).not.toMatch(/^(0|infinity)$/);
    expect(last(unit, "Service", "Restart")).toBe("on-failure");
    expect(last(unit, "Service", "ExecStart")).toBe(
      "/usr/bin/node /opt/edgewarden/dist/cli.js run -c /etc/edgewarden/config.yaml",
    );
  });

  it("runs as the edgewarden user with dialout and its state and config directories", async () => {
    const unit = await loadUnit();
    expect(last(unit, "Service", "User")).toBe("edgewarden");
    const groups = values(unit, "Service", "SupplementaryGroups").flatMap((v) => v.split(/\s+/));
    expect(groups).toContain("dialout");
    expect(values(unit, "Service", "StateDirectory").flatMap((v) => v.split(/\s+/))).toContain("edgewarden");
    expect(values(unit, "Service", "ConfigurationDirectory").flatMap((v) => v.split(/\s+/))).toContain(
      "edgewarden",
    );
    // Supplementary groups are not mapped into a private user namespace: dialout access would break.
    expect(isTrue(last(unit, "Service", "PrivateUsers"))).toBe(false);
  });

  it("reaches serial ports through DeviceAllow groups, not PrivateDevices", async () => {
    const unit = await loadUnit();
    expect(last(unit, "Service", "DevicePolicy")).toBe("closed");
    const allowed = new Map(
      values(unit, "Service", "DeviceAllow").map((entry) => {
        const [device = "", access = ""] = entry.split(/\s+/);
        return [device, access] as const;
      }),
    );
    for (const group of ["char-ttyUSB", "char-ttyACM", "char-ttyAMA", "char-ttyS"]) {
      const access = allowed.get(group);
      expect(access, `DeviceAllow=${group} missing`).toBeDefined();
      expect(access).toContain("r");
      expect(access).toContain("w");
    }
    expect(isTrue(last(unit, "Service", "PrivateDevices"))).toBe(false);
  });

  it("leaves out the settings that would break node or the self-health monitor", async () => {
    const unit = await loadUnit();
    // V8's JIT needs writable+executable pages.
    expect(isTrue(last(unit, "Service", "MemoryDenyWriteExecute"))).toBe(false);
    // The health monitor reads /proc/loadavg, /proc/meminfo, /proc/stat and /proc/net/dev.
    expect(last(unit, "Service", "ProcSubset")).not.toBe("pid");
    // It talks Modbus TCP and MQTT.
    expect(isTrue(last(unit, "Service", "PrivateNetwork"))).toBe(false);
    // V8 probes pkey_alloc(), outside @system-service: it must get an errno, not SIGSYS.
    expect(last(unit, "Service", "SystemCallErrorNumber")).toBeDefined();
  });
});
