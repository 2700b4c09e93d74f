import { describe, expect, it } from "vitest";
import {
  AlertEngine,
  type AnomalyBody,
  anomalyFromJson,
  anomalyToJson,
  DEFAULT_CLEAR_AFTER_MS,
  type EndedBody,
} from "../../src/analytics/alerts/index.js";
import { engine, feed, finding, MINUTE, SECOND, states, T0, THRESHOLDS } from "./alertsFixtures.js";

const none = () => [];

describe("AlertEngine episodes", () => {
  it("turns one long fault into exactly one raised and one ended record", () => {
    const e = engine();
    const before = feed(e, T0, 100, SECOND, none);
    const fault = feed(e, before.next, 600, SECOND, () => [finding("overload", 0.85)]);
    const after = feed(e, fault.next, 200, SECOND, none);
    const bodies = [...before.bodies, ...fault.bodies, ...after.bodies];
    expect(states(bodies)).toEqual(["raised overload MEDIUM", "ended overload MEDIUM"]);
    const [raised, ended] = bodies as [AnomalyBody, EndedBody];
    expect(raised.ts).toBe(before.next);
    expect(ended.id).toBe(raised.id);
    expect(ended.endedTs).toBe(fault.next); // the first reading without the fault
    expect(ended.durationMs).toBe(600 * SECOND);
    // Decided once no reading showed the fault for a minute (the last one was at fault.next - 1 s).
    expect(ended.ts).toBe(fault.next - SECOND + DEFAULT_CLEAR_AFTER_MS);
    expect(ended.reason).toBe("cleared");
    expect(e.stats()).toMatchObject({ raised: 1, ended: 1, escalated: 0, openEpisodes: 0 });
  });

  it("keeps a fault that flickers faster than clear-after as one episode, with nothing suppressed", () => {
    const e = engine();
    // 30 s on, 20 s off, ten times: the gaps are shorter than the one-minute clear-after.
    const { bodies } = feed(e, T0, 500, SECOND, (i) => (i % 50 < 30 ? [finding("overload", 0.7)] : []));
    const tail = feed(e, T0 + 500 * SECOND, 120, SECOND, none);
    expect(states([...bodies, ...tail.bodies])).toEqual(["raised overload LOW", "ended overload LOW"]);
    expect(e.stats().suppressedByCooldown).toBe(0);
  });

  it("raises a fault flapping within the cooldown once, and counts what it suppressed", () => {
    const e = engine({ cooldownMs: 10 * MINUTE });
    // 30 s on, 90 s off: each gap ends the episode, each return falls within the cooldown.
    const { bodies, next } = feed(e, T0, 480, SECOND, (i) =>
      i % 120 < 30 ? [finding("overload", 0.7)] : [],
    );
    expect(states(bodies)).toEqual(["raised overload LOW", "ended overload LOW"]);
    expect(e.stats().suppressedByCooldown).toBeGreaterThan(0);
    expect(e.stats().byType.overload?.suppressedByCooldown).toBe(e.stats().suppressedByCooldown);
    // Once the cooldown has run out, the same fault is news again.
    const later = feed(e, next + 10 * MINUTE, 10, SECOND, () => [finding("overload", 0.7)]);
    expect(states(later.bodies)).toEqual(["raised overload LOW"]);
  });

  it("raises a fault returning within the cooldown when it is worse than the previous peak", () => {
    const e = engine();
    const first = feed(e, T0, 10, SECOND, () => [finding("overload", 0.85)]);
    const gap = feed(e, first.next, 90, SECOND, none);
    const same = feed(e, gap.next, 5, SECOND, () => [finding("overload", 0.85)]);
    const worse = feed(e, same.next, 5, SECOND, () => [finding("overload", 0.95)]);
    expect(states([...first.bodies, ...gap.bodies])).toEqual([
      "raised overload MEDIUM",
      "ended overload MEDIUM",
    ]);
    expect(same.bodies).toEqual([]);
    expect(states(worse.bodies)).toEqual(["raised overload HIGH"]);
  });

  it("escalates LOW to HIGH with one escalated record, and at most once per severity level", () => {
    const e = engine();
    const ladder = [0.65, 0.65, 0.93, 0.85, 0.93, 0.99, 0.7, 0.99];
    const { bodies, next } = feed(e, T0, ladder.length, SECOND, (i) => [finding("overload", ladder[i] ?? 0)]);
    expect(states(bodies)).toEqual([
      "raised overload LOW",
      "escalated overload HIGH",
      "escalated overload CRITICAL",
    ]);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(bodies[1]?.explanation).toMatch(/^HIGH \(was LOW\) overload on press-2/);
    const end = feed(e, next, 70, SECOND, none).bodies[0] as EndedBody;
    expect(end).toMatchObject({
      state: "ended",
      peakSeverity: "CRITICAL",
      peakScore: 0.99,
      severity: "CRITICAL",
    });
  });

  it("raises two alerts when two types of fault happen at once", () => {
    const e = engine();
    const bodies = e.observe(T0, [finding("overload", 0.85), finding("voltage-sag", 0.92)]);
    expect(states(bodies)).toEqual(["raised overload MEDIUM", "raised voltage-sag HIGH"]);
    expect(bodies[0]?.id).not.toBe(bodies[1]?.id);
    expect(bodies[1]?.tags.map((t) => t.tag)).toEqual(["voltage_v"]);
  });

  it("makes a streaming outlier and a multivariate finding of one reading one behaviour alert", () => {
    const e = engine();
    const bodies = e.observe(T0, [
      finding("signal-outlier", 0.7, "streaming"),
      finding("multivariate", 0.7, "isolation-forest"),
      finding("multivariate", 0.65, "autoencoder"),
    ]);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.type).toBe("multivariate");
    expect(bodies[0]?.detectors.map((d) => d.detector)).toEqual([
      "streaming",
      "isolation-forest",
      "autoencoder",
    ]);
    // Streaming alone next: same episode, no new record.
    expect(e.observe(T0 + SECOND, [finding("signal-outlier", 0.7, "streaming")])).toEqual([]);
    expect(e.openEpisodes()).toHaveLength(1);
  });

  it("applies each device's own thresholds", () => {
    const strict = engine({
      device: "press-3",
      thresholds: { low: 0.9, medium: 0.95, high: 0.97, critical: 0.99 },
    });
    const lax = engine();
    const reading = [finding("overload", 0.85)];
    expect(strict.observe(T0, reading)).toEqual([]);
    expect(states(lax.observe(T0, reading))).toEqual(["raised overload MEDIUM"]);
    expect(states(strict.observe(T0 + SECOND, [finding("overload", 0.96)]))).toEqual([
      "raised overload MEDIUM",
    ]);
    expect(strict.observe(T0 + 2 * SECOND, [finding("overload", 0.991)])[0]?.severity).toBe("CRITICAL");
  });

  it("counts findings and raises nothing while muted for baseline learning", () => {
    const e = engine({ muted: true });
    const learning = feed(e, T0, 50, SECOND, () => [finding("overload", 0.99), finding("voltage-sag", 0.9)]);
    expect(learning.bodies).toEqual([]);
    expect(e.stats()).toMatchObject({ mutedFindings: 100, raised: 0, openEpisodes: 0 });
    e.setMuted(false);
    expect(states(e.observe(learning.next, [finding("overload", 0.99)]))).toEqual([
      "raised overload CRITICAL",
    ]);
  });

  it("ends open episodes with reason flushed on flush()", () => {
    const e = engine();
    e.observe(T0, [finding("overload", 0.85), finding("voltage-sag", 0.7)]);
    const ended = e.flush(T0 + 5 * SECOND);
    expect(ended.map((b) => [b.type, b.reason, b.durationMs])).toEqual([
      ["overload", "flushed", 5 * SECOND],
      ["voltage-sag", "flushed", 5 * SECOND],
    ]);
    expect(e.openEpisodes()).toEqual([]);
  });
});

describe("AlertEngine restart and bad input", () => {
  it("continues an episode across a state round trip and ends it exactly once", () => {
    const e = engine();
    const first = feed(e, T0, 30, SECOND, () => [finding("overload", 0.85)]);
    const options = { device: "press-2", thresholds: THRESHOLDS, cooldownMs: 10 * MINUTE };
    const restored = AlertEngine.fromJSON(options, JSON.parse(JSON.stringify(e.toJSON())));
    // The daemon was down five minutes; the fault is still there: no second raise.
    const still = feed(restored, first.next + 5 * MINUTE, 30, SECOND, () => [finding("overload", 0.85)]);
    const clear = feed(restored, still.next, 120, SECOND, none);
    const bodies = [...first.bodies, ...still.bodies, ...clear.bodies];
    expect(states(bodies)).toEqual(["raised overload MEDIUM", "ended overload MEDIUM"]);
    expect(bodies[1]?.id).toBe(bodies[0]?.id);
    expect((bodies[1] as EndedBody).durationMs).toBe(30 * SECOND + 5 * MINUTE + 30 * SECOND);
    // The cooldown survives a restart too.
    const again = AlertEngine.fromJSON(options, JSON.parse(JSON.stringify(restored.toJSON())));
    expect(again.observe(clear.next, [finding("overload", 0.85)])).toEqual([]);
    expect(again.stats().suppressedByCooldown).toBe(1);
  });

  it("does not end an episode over a gap without readings, only on clean readings", () => {
    const e = engine();
    e.observe(T0, [finding("overload", 0.85)]);
    expect(e.observe(T0 + 60 * MINUTE, [])).toEqual([]);
    expect(e.observe(T0 + 60 * MINUTE + SECOND, [])).toEqual([]);
    expect(states(e.observe(T0 + 60 * MINUTE + 2 * SECOND, []))).toEqual(["ended overload MEDIUM"]);
  });

  it("refuses non-finite findings and readings, counts them and keeps its state", () => {
    const e = engine();
    e.observe(T0, [finding("overload", 0.85)]);
    const before = JSON.stringify(e.toJSON());
    const bad = [
      finding("overload", Number.NaN),
      { ...finding("overload", 0.99), score: Number.POSITIVE_INFINITY },
      finding("overload", 1.5),
      finding("overload", 0.99, "power-profile", [{ tag: "spindle_kw", weight: 1, value: Number.NaN }]),
      finding("overload", 0.99, "power-profile", []),
    ];
    expect(e.observe(Number.NaN, [finding("overload", 0.99)])).toEqual([]);
    expect(JSON.stringify(e.toJSON())).toBe(before);
    expect(e.observe(T0 + SECOND, bad)).toEqual([]);
    expect(e.stats()).toMatchObject({ rejectedFindings: 5, rejectedReadings: 1, escalated: 0 });
  });

  it("keeps durations and clear-after running forward when the wall clock steps back", () => {
    const e = engine();
    e.observe(T0, [finding("overload", 0.85)]);
    e.observe(T0 + 10 * SECOND, [finding("overload", 0.85)]);
    // NTP steps the clock back an hour; the fault is gone from here on.
    const back = T0 - 60 * MINUTE;
    const { bodies } = feed(e, back, 70, SECOND, none);
    expect(bodies).toHaveLength(1);
    const ended = bodies[0] as EndedBody;
    expect(ended.endedTs).toBe(back);
    expect(ended.durationMs).toBe(10 * SECOND);
    expect(ended.ts).toBe(back + 60 * SECOND);
    expect(e.stats().clockStepsBack).toBe(1);
    expect(anomalyFromJson(anomalyToJson(ended))).toEqual(ended);
  });

  it("refuses state of another device, another version or with two episodes of one kind", () => {
    const e = engine();
    e.observe(T0, [finding("overload", 0.85)]);
    const state = e.toJSON();
    const options = { thresholds: THRESHOLDS, cooldownMs: 0 };
    expect(() => AlertEngine.fromJSON({ ...options, device: "press-9" }, state)).toThrow(/not press-9/);
    expect(() => AlertEngine.fromJSON({ ...options, device: "press-2" }, { ...state, version: 2 })).toThrow(
      /version/,
    );
    const twice = { ...state, episodes: [...state.episodes, ...state.episodes] };
    expect(() => AlertEngine.fromJSON({ ...options, device: "press-2" }, twice)).toThrow(/share a key/);
    const nan = { ...state, clock: Number.NaN };
    expect(() => AlertEngine.fromJSON({ ...options, device: "press-2" }, nan)).toThrow(/clock/);
  });

  it("refuses thresholds that do not rise and options out of range", () => {
    expect(() => engine({ thresholds: { low: 0.8, medium: 0.7, high: 0.9, critical: 0.95 } })).toThrow(
      /rise/,
    );
    expect(() => engine({ cooldownMs: -1 })).toThrow(/cooldownMs/);
    expect(() => engine({ clearAfterSamples: 0 })).toThrow(/clearAfterSamples/);
    expect(() => engine({ agreementWeight: 2 })).toThrow(/agreementWeight/);
    expect(() => engine({ device: "press 2" })).toThrow(/device id/);
  });
});
