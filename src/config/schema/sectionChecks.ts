/** Cross-field checks of uplink, analytics and backoff settings, plus the warnings `check` prints. */
import { didYouMean } from "../suggest.js";
import type { IssueSink } from "./deviceChecks.js";
import type { ParsedConfig } from "./root.js";
import { shiftOverlaps } from "./shiftOverlap.js";

type Path = (string | number)[];
type Device = ParsedConfig["devices"][number];

export function checkUplink(uplink: ParsedConfig["uplink"], issues: IssueSink): void {
  if (uplink === undefined) {
    return;
  }
  const secure = /^(mqtts|wss):/.test(uplink.url);
  if (uplink.tls !== undefined && !secure) {
    issues.error(["uplink", "tls"], "tls settings need an mqtts:// or wss:// url");
  }
  const tls = uplink.tls;
  if (tls !== undefined && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    issues.error(
      ["uplink", "tls", tls.certFile === undefined ? "keyFile" : "certFile"],
      "a client certificate needs both certFile and keyFile",
    );
  }
  if (uplink.passwordFile !== undefined && uplink.username === undefined) {
    issues.error(["uplink", "passwordFile"], "passwordFile is set but username is not");
  }
  checkBackoff(uplink.reconnect, ["uplink", "reconnect"], issues);
}

export function checkBackoffs(devices: readonly (Device | undefined)[], issues: IssueSink): void {
  devices.forEach((device, i) => {
    if (device === undefined) {
      return;
    }
    if (device.protocol === "modbus-tcp" || device.protocol === "modbus-rtu-over-tcp") {
      checkBackoff(device.reconnect, ["devices", i, "reconnect"], {
        error: (path, message) => issues.error(path, message, { devices: [i], keys: ["reconnect"] }),
      });
    } else if (device.protocol === "serial-line") {
      checkBackoff(device.reopen, ["devices", i, "reopen"], {
        error: (path, message) => issues.error(path, message, { devices: [i], keys: ["reopen"] }),
      });
    }
  });
}

function checkBackoff(
  backoff: { initialDelay: number; maxDelay: number },
  at: Path,
  issues: IssueSink,
): void {
  if (backoff.initialDelay > backoff.maxDelay) {
    issues.error([...at, "initialDelay"], "initialDelay is longer than maxDelay");
  }
}

/**
 * `devices` may have holes where an entry failed its own schema; `deviceNames` holds every name
 * written, so a machine naming such a device is not also told that the device does not exist.
 */
export function checkAnalytics(
  analytics: ParsedConfig["analytics"],
  devicesWithHoles: readonly (Device | undefined)[],
  deviceNames: ReadonlySet<string>,
  issues: IssueSink,
): void {
  if (analytics === undefined) {
    return;
  }
  const devices = new Map(
    devicesWithHoles.filter((device) => device !== undefined).map((device) => [device.name, device]),
  );
  const shiftNames = new Set<string>();
  analytics.shifts.forEach((shift, s) => {
    if (shiftNames.has(shift.name)) {
      issues.error(["analytics", "shifts", s, "name"], `duplicate shift name "${shift.name}"`);
    }
    shiftNames.add(shift.name);
    if (shift.start === shift.end) {
      issues.error(["analytics", "shifts", s, "end"], "a shift cannot start and end at the same time");
    }
  });
  // A zero-length shift is refused above; it takes part in no overlap (indices stay the config's).
  const windows = analytics.shifts.map((shift) =>
    shift.start === shift.end ? { ...shift, days: [] } : shift,
  );
  for (const overlap of shiftOverlaps(windows)) {
    issues.error(
      ["analytics", "shifts", overlap.index],
      `overlaps shift "${overlap.other}" (from ${overlap.at}); a minute can belong to one shift only, or OEE would count it twice`,
    );
  }
  const seen = new Map<string, number>();
  analytics.machines.forEach((machine, m) => {
    const at: Path = ["analytics", "machines", m];
    const device = devices.get(machine.device);
    if (device === undefined) {
      if (!deviceNames.has(machine.device)) {
        issues.error(
          [...at, "device"],
          `no device named "${machine.device}"${didYouMean(machine.device, deviceNames)}`,
        );
      }
      return;
    }
    const previous = seen.get(machine.device);
    if (previous !== undefined) {
      issues.error(
        [...at, "device"],
        `device "${machine.device}" already has analytics at analytics.machines[${previous}]`,
      );
    }
    seen.set(machine.device, m);
    const tags = new Set(
      device.protocol === "serial-line"
        ? device.tags.map((tag) => tag.name)
        : device.pollGroups.flatMap((group) => group.tags.map((tag) => tag.name)),
    );
    const ref = (path: Path, tag: string | undefined) => {
      if (tag !== undefined && !tags.has(tag)) {
        issues.error(path, `device "${machine.device}" has no tag "${tag}"${didYouMean(tag, tags)}`);
      }
    };
    const { streaming, isolationForest, autoencoder } = machine.detectors;
    const refs = (list: readonly string[] | undefined, path: Path) => {
      list?.forEach((tag, i) => {
        ref([...path, i], tag);
      });
    };
    refs(streaming?.tags, [...at, "detectors", "streaming", "tags"]);
    refs(isolationForest?.features, [...at, "detectors", "isolationForest", "features"]);
    refs(autoencoder?.features, [...at, "detectors", "autoencoder", "features"]);
    if (machine.power !== undefined) {
      for (const key of ["power", "current", "voltage", "powerFactor"] as const) {
        ref([...at, "power", key], machine.power[key]);
      }
      machine.power.schedule?.forEach((shift, i) => {
        if (!shiftNames.has(shift)) {
          issues.error(
            [...at, "power", "schedule", i],
            `no shift named "${shift}" in analytics.shifts${didYouMean(shift, shiftNames)}`,
          );
        }
      });
    }
    if (machine.oee !== undefined) {
      for (const key of ["runState", "totalCount", "goodCount", "scrapCount", "plannedStop"] as const) {
        ref([...at, "oee", key], machine.oee[key]);
      }
      if (machine.oee.goodCount !== undefined && machine.oee.scrapCount !== undefined) {
        issues.error([...at, "oee", "scrapCount"], "give goodCount or scrapCount, not both");
      }
    }
    const t = machine.thresholds;
    if (!(t.low < t.medium && t.medium < t.high && t.high < t.critical)) {
      issues.error([...at, "thresholds"], "thresholds must rise: low < medium < high < critical");
    }
  });
}

/** Settings that are valid but risky; `check` prints them and `run` logs them at every start. */
export function configWarnings(config: ParsedConfig): { path: Path; message: string }[] {
  const warnings: { path: Path; message: string }[] = [];
  if (config.uplink?.enabled && config.crypto.encryption === "none") {
    warnings.push({
      path: ["crypto", "encryption"],
      message: "records will be published in clear (encryption: none)",
    });
  }
  if (config.uplink?.tls?.rejectUnauthorized === false) {
    warnings.push({
      path: ["uplink", "tls", "rejectUnauthorized"],
      message: "the broker's certificate is not verified; anyone on the path can read and alter the uplink",
    });
  }
  if (
    config.uplink !== undefined &&
    /^(mqtt|ws):/.test(config.uplink.url) &&
    config.uplink.passwordFile !== undefined
  ) {
    warnings.push({
      path: ["uplink", "url"],
      message: "the broker password travels in clear over a non-TLS url",
    });
  }
  if (config.analytics?.enabled && config.analytics.gatewayProfile && !config.selfHealth.enabled) {
    warnings.push({
      path: ["analytics", "gatewayProfile"],
      message: "the gateway profile needs selfHealth.enabled: true; it stays off",
    });
  }
  config.devices.forEach((device, i) => {
    if (device.protocol === "modbus-rtu" && device.serial.parity === "none" && device.serial.stopBits === 1) {
      warnings.push({
        path: ["devices", i, "serial", "stopBits"],
        message:
          "Modbus RTU without parity should use 2 stop bits (Modbus over serial line §2.5.1); fine if the device says 1",
      });
    }
  });
  return warnings;
}
