import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { combineFindings, mergeTags } from "../../src/analytics/alerts/ensemble.js";
import { explainAlert, explainEnded, formatDuration } from "../../src/analytics/alerts/explanation.js";
import {
  combineProbabilities,
  DEFAULT_AGREEMENT_WEIGHT,
  MAX_BODY_TAGS,
  MAX_EXPLANATION_CHARS,
  severityFor,
} from "../../src/analytics/alerts/index.js";
import { engine, finding, T0, THRESHOLDS } from "./alertsFixtures.js";

describe("combining detectors", () => {
  it("leaves one detector's probability unchanged", () => {
    expect(combineProbabilities([0.73], DEFAULT_AGREEMENT_WEIGHT)).toBe(0.73);
    expect(combineProbabilities([], DEFAULT_AGREEMENT_WEIGHT)).toBe(0);
  });

  it("gives two detectors at 0.6 0.747 by default, between max (0.6) and noisy-OR (0.84)", () => {
    expect(combineProbabilities([0.6, 0.6], 0.5)).toBeCloseTo(1 - 0.4 * Math.sqrt(0.4), 12);
    expect(combineProbabilities([0.6, 0.6], 0.5)).toBeCloseTo(0.747, 3);
    expect(combineProbabilities([0.6, 0.6], 1)).toBeCloseTo(0.84, 12);
    expect(combineProbabilities([0.6, 0.6], 0)).toBe(0.6);
    expect(combineProbabilities([0.9, 0.9], 0.5)).toBeCloseTo(0.968, 3);
  });

  it("never falls below the strongest detector nor rises above noisy-OR, and grows with each input", () => {
    const p = fc.double({ min: 0, max: 1, noNaN: true });
    fc.assert(
      fc.property(fc.array(p, { minLength: 1, maxLength: 5 }), p, fc.nat(4), (ps, bump, at) => {
        const c = combineProbabilities(ps, DEFAULT_AGREEMENT_WEIGHT);
        const noisyOr = 1 - ps.reduce((acc, q) => acc * (1 - q), 1);
        expect(c).toBeGreaterThanOrEqual(Math.max(...ps) - 1e-12);
        expect(c).toBeLessThanOrEqual(noisyOr + 1e-12);
        const i = at % ps.length;
        const raised = ps.map((q, j) => (j === i ? Math.max(q, bump) : q));
        expect(combineProbabilities(raised, DEFAULT_AGREEMENT_WEIGHT)).toBeGreaterThanOrEqual(c - 1e-12);
      }),
      { seed: 6, numRuns: 500 },
    );
  });

  it("counts one detector once however many of its findings a reading has", () => {
    const streamingTags = ["spindle_kw", "current_a", "motor_temp"].map((tag, i) =>
      finding("signal-outlier", 0.7 - i * 0.02, "streaming", [{ tag, weight: 1 }]),
    );
    const [evidence] = combineFindings(streamingTags, THRESHOLDS, DEFAULT_AGREEMENT_WEIGHT);
    expect(evidence?.probability).toBe(0.7);
    expect(evidence?.detectors).toHaveLength(1);
    expect(evidence?.tags.map((t) => t.tag)).toEqual(["spindle_kw", "current_a", "motor_temp"]);
  });

  it("lifts LOW agreement of two models to MEDIUM only through agreement", () => {
    const one = engine().observe(T0, [finding("multivariate", 0.75, "isolation-forest")]);
    const two = engine().observe(T0, [
      finding("multivariate", 0.75, "isolation-forest"),
      finding("multivariate", 0.75, "autoencoder"),
    ]);
    expect(one[0]?.severity).toBe("LOW");
    expect(two[0]?.severity).toBe("MEDIUM");
    expect(two[0]?.score).toBeCloseTo(1 - 0.25 * 0.5, 12);
  });

  it("maps probabilities to severities at the thresholds, inclusive", () => {
    expect(severityFor(0.5999, THRESHOLDS)).toBeNull();
    expect(severityFor(0.6, THRESHOLDS)).toBe("LOW");
    expect(severityFor(0.8, THRESHOLDS)).toBe("MEDIUM");
    expect(severityFor(0.9, THRESHOLDS)).toBe("HIGH");
    expect(severityFor(0.98, THRESHOLDS)).toBe("CRITICAL");
    expect(severityFor(1, THRESHOLDS)).toBe("CRITICAL");
  });
});

describe("tags and explanations", () => {
  it("ranks tags by weight times probability over the findings and keeps values of the heaviest", () => {
    const tags = mergeTags([
      finding("overload", 0.9, "power-profile", [
        { tag: "spindle_kw", weight: 0.8, value: 41.2, expected: 30 },
        { tag: "current_a", weight: 0.2, value: 61 },
      ]),
      finding("overload", 0.6, "isolation-forest", [
        { tag: "current_a", weight: 0.5, value: 60, expected: 48 },
        { tag: "motor_temp", weight: 0.5 },
      ]),
    ]);
    // shares: spindle 0.72, current 0.18 + 0.3, motor 0.3, of 1.5
    expect(tags).toEqual([
      { tag: "spindle_kw", weight: 0.48, value: 41.2, expected: 30 },
      { tag: "current_a", weight: 0.32, value: 60, expected: 48 },
      { tag: "motor_temp", weight: 0.2 },
    ]);
  });

  it("names the heaviest tags with their numbers and the detectors in the explanation", () => {
    const [body] = engine().observe(T0, [
      finding("overload", 0.97, "power-profile", [
        { tag: "current_a", weight: 0.3, value: 61, expected: 48 },
        { tag: "spindle_kw", weight: 0.6, value: 41.2, expected: 30 },
        { tag: "power_factor", weight: 0.1, value: 0.81 },
      ]),
    ]);
    expect(body?.explanation).toBe(
      "HIGH overload on press-2: spindle_kw 41.2 (expected 30), current_a 61 (expected 48), power_factor 0.81; power profile 0.97",
    );
  });

  it("keeps explanations under 300 characters with long names, dropping the least to fit", () => {
    const longTags = Array.from({ length: 8 }, (_, i) => ({
      tag: `${"very_long_tag_name_".repeat(4)}${i}`,
      weight: 1 / 8,
      value: 12345.678 + i,
      expected: 1000,
    }));
    const detectors = [
      { detector: "isolation-forest" as const, probability: 0.93, score: 0.71 },
      { detector: "autoencoder" as const, probability: 0.91, score: 3.2 },
    ];
    const device = "a".repeat(64);
    const text = explainAlert({ severity: "HIGH", type: "multivariate", device, tags: longTags, detectors });
    expect(text.length).toBeLessThan(MAX_EXPLANATION_CHARS);
    expect(text).toContain(longTags[0]?.tag);
    const ended = explainEnded({
      type: "multivariate",
      device,
      durationMs: 3_725_000,
      peakSeverity: "HIGH",
      peakScore: 0.93,
      reason: "cleared",
      tags: longTags.slice(0, MAX_BODY_TAGS),
      detectors,
    });
    expect(ended.length).toBeLessThan(MAX_EXPLANATION_CHARS);
    expect(ended).toContain("cleared after 1 h 2 min");
  });

  it("formats durations for people", () => {
    expect([450, 42_000, 252_000, 7_500_000, 200_000_000].map(formatDuration)).toEqual([
      "450 ms",
      "42 s",
      "4 min 12 s",
      "2 h 5 min",
      "2 d 7 h",
    ]);
  });
});
