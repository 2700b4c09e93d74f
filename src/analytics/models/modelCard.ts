/**
 * The model card kept with every trained model (issue #6 item 5: "features, training window,
 * threshold, validation figures, version"), after Mitchell et al., "Model Cards for Model
 * Reporting" (FAT* 2019), cut to what a plant technician and the upstream team need to trust or
 * question a model: what it watches, what it learnt from, where its line is, how it did on data
 * it did not see, and which software made it.
 */
import * as z from "zod";
import { DETECTOR_KINDS } from "../findings.js";

export const MODEL_CARD_VERSION = 1;

const finite = z.number().refine(Number.isFinite, { error: "not a finite number" });

export const modelCardSchema = z.strictObject({
  format: z.literal("edgewarden.model-card"),
  version: z.literal(MODEL_CARD_VERSION),
  device: z.string().min(1),
  kind: z.enum(DETECTOR_KINDS),
  /** The tags the model reads, in vector order. */
  features: z.array(z.string().min(1)),
  /** A digest of the detector's configuration: a model trained for other settings is not loaded. */
  configDigest: z.string().min(1),
  trainedAt: z.string().min(1),
  software: z.string().min(1),
  training: z.strictObject({
    source: z.enum(["ledger", "csv"]),
    /** Wall-clock ms of the first and last training reading. */
    from: finite,
    to: finite,
    /** Rows the model was fitted on, and rows left out (incomplete or non-finite vectors). */
    rows: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
  }),
  /** The raw-score threshold and the training percentile it sits at; null for models without one. */
  threshold: finite.nullable(),
  thresholdPercentile: finite.nullable(),
  /** Figures on held-out data (names say what, e.g. validationLoss, falseAlarmRate). */
  validation: z.record(z.string(), finite),
  seed: z.number().int().nullable(),
  notes: z.array(z.string()).default([]),
});

export type ModelCard = z.output<typeof modelCardSchema>;

/** The card as Markdown, written next to the model for people (`<kind>.card.md`). */
export function modelCardMarkdown(card: ModelCard): string {
  const lines = [
    `# ${card.kind} model for ${card.device}`,
    "",
    `- Trained: ${card.trainedAt} by edgewarden ${card.software}`,
    `- Features (${card.features.length}): ${card.features.join(", ") || "(none)"}`,
    `- Training data: ${card.training.source}, ${new Date(card.training.from).toISOString()} to ${new Date(card.training.to).toISOString()}, ${card.training.rows} rows used, ${card.training.skipped} left out`,
    `- Threshold: ${card.threshold ?? "none"}${card.thresholdPercentile === null ? "" : ` (training percentile ${card.thresholdPercentile})`}`,
    `- Seed: ${card.seed ?? "none"}`,
    `- Config digest: ${card.configDigest}`,
    "",
    "## Validation",
    "",
    ...Object.entries(card.validation).map(([name, value]) => `- ${name}: ${value}`),
    ...(card.notes.length === 0 ? [] : ["", "## Notes", "", ...card.notes.map((note) => `- ${note}`)]),
    "",
  ];
  return lines.join("\n");
}
