/**
 * A device that left the config may have alerts still open in its saved state (issue #6 item 3:
 * "an `ended` record when it clears"; the alert engine's flush()). At start they are ended with
 * reason "flushed", so the receiver is not left with an alert that never ends, and the saved state
 * is updated so they are not ended twice.
 */
import { machineSchema } from "../../config/schema/analytics.js";
import { AlertEngine } from "../alerts/index.js";
import type { ModelStore } from "../models/modelStore.js";
import type { StagePorts } from "./stagePorts.js";

export async function endRemovedDevices(
  store: ModelStore,
  configured: ReadonlySet<string>,
  ports: Pick<StagePorts, "append" | "clock" | "logger">,
): Promise<void> {
  const now = ports.clock.wallNow();
  for (const device of await store.devices()) {
    if (configured.has(device)) {
      continue;
    }
    const state = await store.loadState(device).catch(() => undefined);
    if (typeof state !== "object" || state === null || !("alerts" in state)) {
      continue;
    }
    try {
      const defaults = machineSchema.parse({ device });
      const engine = AlertEngine.fromJSON(
        { device, thresholds: defaults.thresholds, cooldownMs: defaults.cooldown },
        state.alerts,
      );
      const ended = engine.flush(now);
      if (ended.length === 0) {
        continue;
      }
      for (const body of ended) {
        ports.append.appendAnomaly(body, ports.clock.wallSynced());
      }
      await store.saveState(device, { ...state, alerts: engine.toJSON() });
      ports.logger.info({ device, ended: ended.length }, "alerts of a device no longer configured ended");
    } catch (error) {
      ports.logger.warn({ err: error, device }, "open alerts of a removed device not ended");
    }
  }
}
