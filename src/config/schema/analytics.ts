/** The `analytics` section: detectors, power profiles, OEE and shifts (issue #6). */
import { validateDetailed } from "node-cron";
import * as z from "zod";
import { duration, filePath, integer, name } from "./primitives.js";

const tagRef = z.string().min(1).max(64).meta({ description: "Name of a tag of the machine's device." });
const tagList = z.array(tagRef).min(1);

const probability = (description: string) => z.number().gt(0).lt(1).meta({ description });

const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;

export const shiftSchema = z
  .strictObject({
    name: name("shift name", "Shift name, e.g. early, late, night."),
    start: z
      .string()
      .regex(CLOCK_TIME, { error: 'expected a time of day as "HH:MM", e.g. "06:00" (quote it)' }),
    end: z
      .string()
      .regex(CLOCK_TIME, { error: 'expected a time of day as "HH:MM", e.g. "14:00" (quote it)' })
      .meta({ description: "End time; earlier than start means the shift runs past midnight." }),
    days: z
      .array(z.enum(WEEKDAYS))
      .min(1)
      .default([...WEEKDAYS]),
  })
  .meta({ description: "A shift, in gateway.timezone." });

/** Exported so that a machine naming no detector gets exactly these defaults (machineBuilder.ts). */
export const streamingSchema = z.strictObject({
  tags: tagList.meta({ description: "Tags scored one by one." }),
  method: z.enum(["median-mad", "ewma"]).default("median-mad"),
  window: duration({
    min: "1m",
    max: "30d",
    example: "1h",
    description: "Length of the rolling baseline.",
  }).prefault("1h"),
  seasonality: z.enum(["none", "daily", "weekly"]).default("none"),
});

export const detectorsSchema = z
  .strictObject({
    streaming: streamingSchema.optional(),
    isolationForest: z
      .strictObject({
        features: tagList.meta({ description: "Tags forming one feature vector." }),
        trees: integer(10, 1000, "Number of trees.").default(100),
        sampleSize: integer(16, 4096, "Sub-sample size per tree.").default(256),
        seed: integer(0, 2 ** 31 - 1, "Seed, for reproducible training.").default(1),
        thresholdPercentile: z.number().min(50).max(100).default(99.5).meta({
          description: "Scores above this percentile of the training scores are anomalous.",
        }),
      })
      .optional(),
    autoencoder: z
      .strictObject({
        features: tagList.meta({ description: "Tags forming one feature vector." }),
        hiddenUnits: z
          .array(integer(1, 256, "Units of a hidden layer."))
          .min(1)
          .max(4)
          .default([8, 4]),
        epochs: integer(1, 1000, "Training epochs.").default(50),
        seed: integer(0, 2 ** 31 - 1, "Seed, for reproducible training.").default(1),
        thresholdPercentile: z.number().min(50).max(100).default(99.5).meta({
          description: "Reconstruction errors above this percentile of the training errors are anomalous.",
        }),
      })
      .optional(),
  })
  .meta({ description: "Detectors for this machine. Omit one to leave it off." });

export const machineSchema = z
  .strictObject({
    device: z
      .string()
      .min(1)
      .meta({ description: "Name of the device (in devices) this machine is read through." }),
    detectors: detectorsSchema.prefault({}),
    thresholds: z
      .strictObject({
        low: probability("Anomaly probability for LOW.").default(0.6),
        medium: probability("...for MEDIUM.").default(0.8),
        high: probability("...for HIGH.").default(0.9),
        critical: probability("...for CRITICAL.").default(0.98),
      })
      .prefault({})
      .meta({ description: "Severity thresholds, ascending." }),
    cooldown: duration({
      min: "0s",
      max: "1d",
      example: "10m",
      description: "One fault is one alert: no new alert of the same type within this.",
    }).prefault("10m"),
    power: z
      .strictObject({
        power: tagRef.meta({ description: "Active power tag." }),
        current: tagRef.optional(),
        voltage: tagRef.optional(),
        powerFactor: tagRef.optional(),
        nominalVoltage: z
          .number()
          .positive()
          .optional()
          .meta({ description: "Supply voltage, for sag and swell limits." }),
        schedule: z.array(z.string().min(1)).optional().meta({
          description:
            "Shift names during which the machine is meant to run; running outside them is flagged.",
        }),
      })
      .optional()
      .meta({ description: "Power profile: learnt operating states and their normal bands." }),
    oee: z
      .strictObject({
        runState: tagRef.meta({ description: "Tag that is true/non-zero while the machine runs." }),
        totalCount: tagRef.meta({ description: "Counter of all parts made." }),
        goodCount: tagRef.optional().meta({ description: "Counter of good parts." }),
        scrapCount: tagRef
          .optional()
          .meta({ description: "Counter of scrap parts (when there is no good counter)." }),
        plannedStop: tagRef
          .optional()
          .meta({ description: "Tag that is true during planned stops (not counted against availability)." }),
        idealCycleTime: duration({
          min: "1ms",
          max: "1d",
          example: "2500ms",
          description: "Ideal time per part.",
        }),
      })
      .optional()
      .meta({ description: "OEE per shift from the machine's counters." }),
  })
  .meta({ description: "Analytics for one machine." });

export const analyticsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    modelDir: filePath("Where trained models are kept. Default: <gateway.dataDir>/models.").optional(),
    backend: z
      .enum(["auto", "wasm", "cpu", "tfjs-node"])
      .default("auto")
      .meta({ description: "TensorFlow.js backend; auto uses tfjs-node when it loads, else wasm." }),
    training: z
      .strictObject({
        schedule: z
          .string()
          .regex(/^(\S+\s+){4}\S+$/, {
            error: 'expected a cron expression with five fields, e.g. "0 3 * * 0"',
          })
          .superRefine((expression, ctx) => {
            // The scheduler's own parser decides (node-cron), so check accepts exactly what run runs.
            if (!/^(\S+\s+){4}\S+$/.test(expression)) {
              return; // the field count was said above
            }
            const checked = validateDetailed(expression);
            if (!checked.valid) {
              const first = checked.errors[0];
              ctx.addIssue({
                code: "custom",
                message: `not a valid cron expression: ${first === undefined ? "invalid" : `${first.field} "${first.value ?? ""}" is out of range or malformed`}`,
              });
            }
          })
          .default("0 3 * * 0")
          .meta({ description: "When to retrain from the ledger's history (cron, gateway.timezone)." }),
        history: duration({
          min: "1h",
          max: "365d",
          example: "14d",
          description: "How much history to train on.",
        }).prefault("14d"),
        minSamples: integer(10, 10_000_000, "Do not train a model on fewer samples than this.").default(1000),
      })
      .prefault({}),
    learningPeriod: duration({
      min: "0s",
      max: "90d",
      example: "7d",
      description:
        "After analytics first runs on this gateway, detectors learn and do not alert for this long; then the models are trained from the ledger's history.",
    }).prefault("24h"),
    shifts: z.array(shiftSchema).default([]),
    gatewayProfile: z.boolean().default(true).meta({
      description:
        "Watch the gateway itself (crypto-mining-like CPU, botnet-like egress, overheating); needs selfHealth.",
    }),
    machines: z.array(machineSchema).prefault([]),
  })
  .meta({ description: "On-device anomaly detection, power profiles and OEE." });
