/** Findings and engines for the alert tests (issue #6 item 3). */
import { AlertEngine, type AlertEngineOptions, type AnomalyBody } from "../../src/analytics/alerts/index.js";
import type { AnomalyType, DetectorKind, Finding, TagContribution } from "../../src/analytics/findings.js";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
/** The schema's default thresholds. */
export const THRESHOLDS = { low: 0.6, medium: 0.8, high: 0.9, critical: 0.98 } as const;
export const T0 = 1_795_320_853_000;

const DEFAULT_TAGS: Readonly<Partial<Record<AnomalyType, readonly TagContribution[]>>> = {
  overload: [
    { tag: "spindle_kw", weight: 0.7, value: 41.2, expected: 30 },
    { tag: "current_a", weight: 0.3, value: 61, expected: 48 },
  ],
  "voltage-sag": [{ tag: "voltage_v", weight: 1, value: 198, expected: 218 }],
};

export function finding(
  type: AnomalyType,
  probability: number,
  detector: DetectorKind = type === "signal-outlier"
    ? "streaming"
    : type === "multivariate"
      ? "isolation-forest"
      : "power-profile",
  tags: readonly TagContribution[] = DEFAULT_TAGS[type] ?? [{ tag: "spindle_kw", weight: 1, value: 41.2 }],
): Finding {
  return { detector, type, probability, score: probability * 10, tags, explanation: `${type} test finding` };
}

export function engine(options: Partial<AlertEngineOptions> = {}): AlertEngine {
  return new AlertEngine({ device: "press-2", thresholds: THRESHOLDS, cooldownMs: 10 * MINUTE, ...options });
}

/** Feeds `n` readings `stepMs` apart from `from`; returns the records and the next ts. */
export function feed(
  e: AlertEngine,
  from: number,
  n: number,
  stepMs: number,
  findingsAt: (i: number) => readonly Finding[],
): { bodies: AnomalyBody[]; next: number } {
  const bodies: AnomalyBody[] = [];
  for (let i = 0; i < n; i++) {
    bodies.push(...e.observe(from + i * stepMs, findingsAt(i)));
  }
  return { bodies, next: from + n * stepMs };
}

export const states = (bodies: readonly AnomalyBody[]): string[] =>
  bodies.map((b) => `${b.state} ${b.type} ${b.severity}`);
