/**
 * Per-tag publish filter (issue #4: "a deadband (absolute or percent) with a heartbeat: publish on
 * a change beyond the deadband, or every N seconds anyway").
 *
 * A reading is published when any of these holds:
 * - it is the tag's first reading;
 * - its quality or reason differs from the last published one (a tag going bad, or bad for a new
 *   reason, is news even when its value is null both times);
 * - heartbeat ms or more have passed since the last publish (monotonic clock: FAULTS 8.5);
 * - its value moved beyond the deadband from the last *published* value (not the last reading,
 *   so a slow drift in steps below the deadband still publishes once it adds up):
 *   absolute: |v - last| > value; percent: |v - last| > value% of |last|, so with a last value of
 *   0 any change publishes (0% of 0 is 0);
 * - a non-numeric value (string, boolean) differs from the last published one.
 * A tag with neither deadband nor heartbeat publishes every reading; one with only a heartbeat
 * publishes on any change. Memory per tag is one value, its quality, reason and time.
 */
import type { Quality, SampleValue } from "../records.js";

export interface Deadband {
  readonly kind: "absolute" | "percent";
  readonly value: number;
}

export interface PublishFilterConfig {
  readonly deadband?: Deadband | undefined;
  readonly heartbeat?: number | undefined;
}

export interface MonotonicClock {
  monotonicNow(): number;
}

export interface FilteredReading {
  readonly value: SampleValue;
  readonly quality: Quality;
  readonly reason?: string | undefined;
}

interface Published {
  readonly value: SampleValue;
  readonly quality: Quality;
  readonly reason: string | undefined;
  readonly at: number;
}

/** |a - b|, exactly when both are integers (bigint past 2^53), else as a double. */
function distance(a: number | bigint, b: number | bigint): number | bigint {
  const bothIntegers =
    (typeof a === "bigint" || Number.isInteger(a)) && (typeof b === "bigint" || Number.isInteger(b));
  if (bothIntegers && (typeof a === "bigint" || typeof b === "bigint")) {
    const difference = BigInt(a) - BigInt(b);
    return difference < 0n ? -difference : difference;
  }
  return Math.abs(Number(a) - Number(b));
}

/** Whether distance > threshold; a bigint distance is an integer, so it exceeds t iff it exceeds floor(t). */
function exceeds(gap: number | bigint, threshold: number): boolean {
  return typeof gap === "bigint" ? gap > BigInt(Math.floor(threshold)) : gap > threshold;
}

function isNumeric(value: SampleValue): value is number | bigint {
  return typeof value === "number" || typeof value === "bigint";
}

export class PublishFilter {
  private last: Published | undefined;

  constructor(
    private readonly config: PublishFilterConfig,
    private readonly clock: MonotonicClock,
  ) {}

  /** Whether to publish this reading; when it says yes, the reading becomes the new reference. */
  shouldPublish(reading: FilteredReading): boolean {
    const now = this.clock.monotonicNow();
    if (this.decide(reading, now)) {
      this.last = { value: reading.value, quality: reading.quality, reason: reading.reason, at: now };
      return true;
    }
    return false;
  }

  /** Forget the last published reading (reconnect, reload): the next reading publishes. */
  reset(): void {
    this.last = undefined;
  }

  private decide(reading: FilteredReading, now: number): boolean {
    const { deadband, heartbeat } = this.config;
    const last = this.last;
    if (last === undefined || (deadband === undefined && heartbeat === undefined)) {
      return true;
    }
    if (reading.quality !== last.quality || reading.reason !== last.reason) {
      return true;
    }
    if (heartbeat !== undefined && now - last.at >= heartbeat) {
      return true;
    }
    return this.changedBeyondDeadband(reading.value, last.value);
  }

  private changedBeyondDeadband(value: SampleValue, last: SampleValue): boolean {
    if (!isNumeric(value) || !isNumeric(last)) {
      return value !== last;
    }
    const gap = distance(value, last);
    const deadband = this.config.deadband;
    if (deadband === undefined) {
      return gap !== 0 && gap !== 0n;
    }
    const threshold =
      deadband.kind === "absolute" ? deadband.value : (Math.abs(Number(last)) * deadband.value) / 100;
    return exceeds(gap, threshold);
  }
}
