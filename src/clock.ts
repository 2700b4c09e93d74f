/**
 * Time, injectable (STYLE.md): monotonic time for scheduling and timeouts, wall time only as a
 * label (FAULTS 8.5: a Pi without RTC steps its clock at boot and again at NTP sync).
 */
import { existsSync } from "node:fs";

export interface Clock {
  /** Wall-clock milliseconds since the epoch: for timestamps people read. */
  wallNow(): number;
  /** Monotonic milliseconds from an arbitrary origin: for durations, timeouts and staleness. */
  monotonicNow(): number;
  /** Whether wall time is known to be synchronised (NTP); records carry it as clockSynced. */
  wallSynced(): boolean;
}

/**
 * systemd-timesyncd creates this file once it has synchronised the clock (systemd >= 239);
 * chrony and ntpd users can create it from their own hook.
 */
export const TIMESYNC_FLAG = "/run/systemd/timesync/synchronized";
const SYNC_RECHECK_MS = 10_000;

let lastSyncCheck = Number.NEGATIVE_INFINITY;
let lastSynced = false;

export const systemClock: Clock = {
  wallNow: () => Date.now(),
  monotonicNow: () => performance.now(),
  wallSynced: () => {
    const now = performance.now();
    if (now - lastSyncCheck > SYNC_RECHECK_MS) {
      lastSynced = existsSync(TIMESYNC_FLAG);
      lastSyncCheck = now;
    }
    return lastSynced;
  },
};
