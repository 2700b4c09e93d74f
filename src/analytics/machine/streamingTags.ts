/**
 * Streaming detectors for a machine's tags (issue #6 item 1a), one StreamingDetector per tag,
 * each fed only the values its tag brought in this sample. The likelihood is the finding's
 * probability; the detector's own alarm hold-off is not used here, because the alert engine owns
 * "one fault is one alert" for every detector alike (alerts/).
 */
import type { Finding } from "../findings.js";
import { StreamingDetector, type StreamingDetectorConfig } from "../streaming/index.js";
import { formatNumber, type MachineDetector, REPORT_FLOOR } from "./machineDetector.js";
import type { TagUpdate } from "./tagHold.js";

/**
 * A finding also needs the value itself to be off: |z| >= 3.5 (Iglewicz and Hoaglin's cut-off
 * for the robust "modified z-score", the median/MAD z used here). The likelihood alone rises on
 * runs of moderately high values: on stationary Gaussian noise it crossed LOW about 5 times per
 * 50,000 values (seeds 1-5, z 1.5-3.3), a false alert per tag every few hours at a 1 s poll; with
 * |z| >= 3 still about once per 50,000 (z 3.0-3.3); with 3.5, none in 250,000. The likelihood
 * still decides how unusual is unusual; the gate only keeps ordinary values from alerting.
 */
const MIN_ABS_Z = 3.5;

export interface StreamingTagsState {
  readonly tags: Readonly<Record<string, unknown>>;
}

export class StreamingTagsDetector implements MachineDetector {
  readonly kind = "streaming" as const;
  readonly #detectors = new Map<string, StreamingDetector>();
  /** The last finding of each tag, until the tag's next value is scored. */
  readonly #held = new Map<string, Finding>();
  /** Tags whose saved state could not be restored (they start learning afresh); for the log. */
  readonly restoreFailures: { tag: string; reason: string }[] = [];

  constructor(tags: readonly string[], config: StreamingDetectorConfig, saved?: unknown) {
    const savedTags = isStateObject(saved) ? saved.tags : {};
    for (const tag of tags) {
      const state = Object.hasOwn(savedTags, tag) ? savedTags[tag] : undefined;
      let detector: StreamingDetector | undefined;
      if (state !== undefined) {
        try {
          detector = StreamingDetector.fromJSON(state);
          const changed = settingsChanged(detector, config);
          if (changed !== undefined) {
            this.restoreFailures.push({ tag, reason: `${changed} changed since it was saved` });
            detector = undefined;
          }
        } catch (error) {
          this.restoreFailures.push({ tag, reason: error instanceof Error ? error.message : String(error) });
        }
      }
      this.#detectors.set(tag, detector ?? new StreamingDetector(config));
    }
  }

  observe(ts: number, updates: readonly TagUpdate[]): Finding[] | undefined {
    let evaluated = false;
    for (const { tag, value } of updates) {
      const detector = this.#detectors.get(tag);
      if (detector === undefined) {
        continue;
      }
      evaluated = true;
      this.#held.delete(tag);
      const result = detector.observe(ts, value);
      if (
        result.status !== "scored" ||
        result.likelihood < REPORT_FLOOR ||
        result.z === null ||
        Math.abs(result.z) < MIN_ABS_Z
      ) {
        continue;
      }
      const expected = result.expected ?? undefined;
      this.#held.set(tag, {
        detector: "streaming",
        type: "signal-outlier",
        probability: result.likelihood,
        score: result.z,
        tags: [{ tag, weight: 1, value, ...(expected === undefined ? {} : { expected }) }],
        explanation:
          expected === undefined
            ? `${tag} ${formatNumber(value)} is ${formatNumber(result.z)} sigma from its baseline`
            : `${tag} ${formatNumber(value)} (expected ${formatNumber(expected)}, ${formatNumber(result.z)} sigma)`,
      });
    }
    return evaluated ? [...this.#held.values()] : undefined;
  }

  saveState(): StreamingTagsState {
    const tags: Record<string, unknown> = {};
    for (const [tag, detector] of this.#detectors) {
      tags[tag] = detector.toJSON();
    }
    return { tags };
  }
}

/** Which setting a restored baseline was learnt under differs from the config now, if any. */
function settingsChanged(detector: StreamingDetector, config: StreamingDetectorConfig): string | undefined {
  const saved = detector.config;
  if (saved.method !== config.method) {
    return "the method";
  }
  if (saved.windowMs !== config.windowMs) {
    return "the window";
  }
  if (saved.seasonality !== config.seasonality) {
    return "the seasonality";
  }
  return detector.tuning.timeZone === (config.tuning?.timeZone ?? "UTC") ? undefined : "gateway.timezone";
}

function isStateObject(value: unknown): value is { tags: Record<string, unknown> } {
  return (
    typeof value === "object" &&
    value !== null &&
    "tags" in value &&
    typeof value.tags === "object" &&
    value.tags !== null
  );
}
