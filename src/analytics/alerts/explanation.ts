/**
 * The explanation sentence of an anomaly record (issue #6 item 3: "explanation naming the tags that
 * drove it"): what, where, how bad, which tags with their values and what was expected, and which
 * detectors said so. One line under MAX_EXPLANATION_CHARS, for a phone notification or a table.
 */
import type { AnomalyType, DetectorKind, Severity } from "../findings.js";
import { type BodyTag, type DetectorVerdict, MAX_EXPLANATION_CHARS } from "./anomalyBody.js";

const TYPE_LABELS: Readonly<Record<AnomalyType, string>> = {
  "signal-outlier": "signal outlier",
  multivariate: "unusual behaviour",
  overload: "overload",
  "idle-draw": "abnormal idle draw",
  "voltage-sag": "voltage sag",
  "voltage-swell": "voltage swell",
  "power-factor-drop": "power factor drop",
  "outside-schedule": "running outside its schedule",
  "crypto-mining": "crypto-mining-like CPU load",
  "botnet-egress": "botnet-like network egress",
  overheating: "overheating",
};

const DETECTOR_LABELS: Readonly<Record<DetectorKind, string>> = {
  streaming: "baseline",
  "isolation-forest": "isolation forest",
  autoencoder: "autoencoder",
  "power-profile": "power profile",
  "gateway-profile": "gateway profile",
};

/** Tags named in the sentence at most (the body lists up to MAX_BODY_TAGS). */
const SENTENCE_TAGS = 3;

/** 4 significant digits, no exponent for plant-sized values: 41.2, 0.973, 1234. */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) {
    return value.toPrecision(3);
  }
  return String(Number(value.toPrecision(4)));
}

export function formatDuration(ms: number): string {
  if (ms < 1000) {
    return `${Math.round(ms)} ms`;
  }
  const s = Math.round(ms / 1000);
  if (s < 60) {
    return `${s} s`;
  }
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m} min ${s % 60} s`;
  }
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

function describeTag(t: BodyTag): string {
  if (t.value === undefined) {
    return `${t.tag} (${Math.round(t.weight * 100)}% of the evidence)`;
  }
  const expected = t.expected === undefined ? "" : ` (expected ${formatNumber(t.expected)})`;
  return `${t.tag} ${formatNumber(t.value)}${expected}`;
}

function describeDetectors(detectors: readonly DetectorVerdict[]): string {
  return detectors.map((d) => `${DETECTOR_LABELS[d.detector]} ${formatNumber(d.probability)}`).join(", ");
}

/** Tries richer forms first and keeps the first that fits; cuts hard only when even the bare head does not. */
function fitSentence(head: string, tags: readonly BodyTag[], tail: string): string {
  for (let n = Math.min(SENTENCE_TAGS, tags.length); n >= 1; n--) {
    const named = tags.slice(0, n).map(describeTag).join(", ");
    for (const candidate of [`${head}: ${named}; ${tail}`, `${head}: ${named}`]) {
      if (candidate.length < MAX_EXPLANATION_CHARS) {
        return candidate;
      }
    }
  }
  return head.length < MAX_EXPLANATION_CHARS ? head : `${head.slice(0, MAX_EXPLANATION_CHARS - 2)}…`;
}

/** "HIGH overload on press-2: spindle_kw 41.2 (expected 30), current_a 61; power profile 0.97, ..." */
export function explainAlert(a: {
  readonly severity: Severity;
  readonly previous?: Severity;
  readonly type: AnomalyType;
  readonly device: string;
  readonly tags: readonly BodyTag[];
  readonly detectors: readonly DetectorVerdict[];
}): string {
  const was = a.previous === undefined ? "" : ` (was ${a.previous})`;
  return fitSentence(
    `${a.severity}${was} ${TYPE_LABELS[a.type]} on ${a.device}`,
    a.tags,
    describeDetectors(a.detectors),
  );
}

/** "overload on press-2 cleared after 4 min 12 s, peak CRITICAL 0.99: spindle_kw 52 (expected 30)" */
export function explainEnded(e: {
  readonly type: AnomalyType;
  readonly device: string;
  readonly durationMs: number;
  readonly peakSeverity: Severity;
  readonly peakScore: number;
  readonly reason: "cleared" | "flushed";
  readonly tags: readonly BodyTag[];
  readonly detectors: readonly DetectorVerdict[];
}): string {
  const how = e.reason === "cleared" ? "cleared" : "closed without clearing";
  const head = `${TYPE_LABELS[e.type]} on ${e.device} ${how} after ${formatDuration(e.durationMs)}, peak ${e.peakSeverity} ${formatNumber(e.peakScore)}`;
  return fitSentence(head, e.tags, describeDetectors(e.detectors));
}
