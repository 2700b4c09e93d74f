import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AlertEngine,
  type AlertEngineOptions,
  type AnomalyBody,
  anomalyFromJson,
  anomalyToJson,
  type EpisodeKey,
  episodeKeyOf,
} from "../../src/analytics/alerts/index.js";
import { DETECTOR_KINDS, type Finding, SEVERITIES } from "../../src/analytics/findings.js";
import { SECOND, T0, THRESHOLDS } from "./alertsFixtures.js";

const probability = fc.oneof(
  // Uniform in [0, 1] by thousandths: fc.double favours tiny values and would rarely reach LOW.
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 1000 }).map((n) => n / 1000) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0.1, 1.1) },
);

const findingArb: fc.Arbitrary<Finding> = fc.record({
  detector: fc.constantFrom(...DETECTOR_KINDS),
  type: fc.constantFrom(
    "overload" as const,
    "voltage-sag" as const,
    "signal-outlier" as const,
    "multivariate" as const,
  ),
  probability,
  score: fc.oneof(
    { weight: 20, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
    fc.constant(Number.NaN),
  ),
  tags: fc.array(
    fc.record(
      {
        tag: fc.constantFrom("spindle_kw", "current_a", "voltage_v", "motor_temp", "x".repeat(64)),
        weight: fc.double({ min: 0, max: 1, noNaN: true }),
        value: fc.double({ noDefaultInfinity: true, noNaN: true }),
        expected: fc.double({ min: -1e9, max: 1e9, noNaN: true }),
      },
      { requiredKeys: ["tag", "weight"] },
    ),
    { minLength: 1, maxLength: 7 },
  ),
  explanation: fc.constant("a finding"),
});

type Step =
  | { readonly do: "observe"; readonly dtMs: number; readonly findings: readonly Finding[] }
  | { readonly do: "restart" | "mute" | "unmute" | "flush" };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      do: fc.constant("observe" as const),
      // Mostly forward, sometimes a long gap, now and then the wall clock stepping back.
      dtMs: fc.oneof(
        { weight: 20, arbitrary: fc.integer({ min: 0, max: 20 * SECOND }) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: 30 * 60 * SECOND }) },
        { weight: 1, arbitrary: fc.integer({ min: -3600 * SECOND, max: -1 }) },
      ),
      findings: fc.array(findingArb, { maxLength: 5, size: "medium" }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Step>({ do: "restart" }, { do: "mute" }, { do: "unmute" }, { do: "flush" }),
  },
);

const optionsArb: fc.Arbitrary<AlertEngineOptions> = fc.record({
  device: fc.constant("press-2"),
  thresholds: fc.constant(THRESHOLDS),
  cooldownMs: fc.constantFrom(0, 60 * SECOND, 600 * SECOND),
  clearAfterMs: fc.constantFrom(0, 30 * SECOND, 60 * SECOND),
  clearAfterSamples: fc.integer({ min: 1, max: 4 }),
});

/** Checks each record against the episodes the records so far opened; throws on the first violation. */
class EpisodeLedger {
  static readonly seen = { raised: 0, escalated: 0, ended: 0, suppressed: 0 };
  readonly open = new Map<EpisodeKey, { id: string; peak: number }>();
  readonly raisedIds = new Set<string>();

  accept(body: AnomalyBody): void {
    expect(anomalyFromJson(anomalyToJson(body))).toEqual(body);
    const key = episodeKeyOf(body.type);
    const open = this.open.get(key);
    const rank = SEVERITIES.indexOf(body.severity);
    EpisodeLedger.seen[body.state]++;
    switch (body.state) {
      case "raised":
        expect(open, `raised ${body.id} while ${open?.id} is open`).toBeUndefined();
        expect(this.raisedIds.has(body.id)).toBe(false);
        this.raisedIds.add(body.id);
        this.open.set(key, { id: body.id, peak: rank });
        break;
      case "escalated":
        expect(open?.id).toBe(body.id);
        expect(rank).toBeGreaterThan(open?.peak ?? 4);
        this.open.set(key, { id: body.id, peak: rank });
        break;
      case "ended":
        expect(this.raisedIds.has(body.id)).toBe(true);
        expect(open?.id).toBe(body.id);
        expect(SEVERITIES.indexOf(body.peakSeverity)).toBe(open?.peak);
        this.open.delete(key);
        break;
    }
  }
}

describe("AlertEngine over any finding stream", () => {
  it("ends only raised episodes, keeps one open episode per kind, writes only valid records", () => {
    fc.assert(
      fc.property(optionsArb, fc.array(stepArb, { minLength: 20, maxLength: 200 }), (options, steps) => {
        let e = new AlertEngine(options);
        const ledger = new EpisodeLedger();
        let ts = T0;
        for (const step of steps) {
          let bodies: AnomalyBody[] = [];
          switch (step.do) {
            case "observe":
              ts += step.dtMs;
              bodies = e.observe(ts, step.findings);
              break;
            case "restart": {
              const muted = e.muted;
              e = AlertEngine.fromJSON({ ...options, muted }, JSON.parse(JSON.stringify(e.toJSON())));
              break;
            }
            case "mute":
              e.setMuted(true);
              break;
            case "unmute":
              e.setMuted(false);
              break;
            case "flush":
              bodies = e.flush(ts);
              expect(bodies.every((b) => b.state === "ended" && b.reason === "flushed")).toBe(true);
              break;
          }
          for (const body of bodies) {
            ledger.accept(body);
          }
          EpisodeLedger.seen.suppressed = Math.max(
            EpisodeLedger.seen.suppressed,
            e.stats().suppressedByCooldown,
          );
          expect(new Set(e.openEpisodes().map((o) => o.id))).toEqual(
            new Set([...ledger.open.values()].map((o) => o.id)),
          );
        }
      }),
      { numRuns: 300 },
    );
    // The streams did exercise every path (not a vacuous pass).
    expect(
      Object.values(EpisodeLedger.seen).every((n) => n > 0),
      JSON.stringify(EpisodeLedger.seen),
    ).toBe(true);
  });
});
