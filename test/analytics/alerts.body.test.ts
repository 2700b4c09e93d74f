import { describe, expect, it } from "vitest";
import {
  type AnomalyBody,
  AnomalyBodyError,
  anomalyFromJson,
  anomalyToJson,
  type EndedBody,
} from "../../src/analytics/alerts/index.js";
import { protocolExample } from "../fixtures/protocol/protocolDoc.js";
import { engine, feed, finding, SECOND, T0 } from "./alertsFixtures.js";

/** The episode of docs/protocol.md's example: HIGH overload, CRITICAL at reading 100, cleared. */
function documentedEpisode(): AnomalyBody[] {
  const e = engine();
  const fault = feed(e, T0, 250, SECOND, (i) => [finding("overload", i === 100 ? 0.985 : 0.93)]);
  return [...fault.bodies, ...feed(e, fault.next, 70, SECOND, () => []).bodies];
}

const raised = (): AnomalyBody => documentedEpisode()[0] as AnomalyBody;
const ended = (): EndedBody => documentedEpisode()[2] as EndedBody;

describe("anomaly body JSON", () => {
  it("writes exactly the records of the worked example in docs/protocol.md", () => {
    const lines = documentedEpisode().map(anomalyToJson);
    expect(lines.join("\n")).toBe(protocolExample("anomaly-bodies"));
  });

  it("reads every documented record back to the same body and the same text", () => {
    const bodies = documentedEpisode();
    for (const [i, line] of protocolExample("anomaly-bodies").split("\n").entries()) {
      const body = anomalyFromJson(line);
      expect(body).toEqual(bodies[i]);
      expect(anomalyToJson(body)).toBe(line);
    }
  });

  it("writes keys in the documented order whatever order the object has", () => {
    const body = ended();
    const shuffled = Object.fromEntries(Object.entries(body).reverse()) as unknown as AnomalyBody;
    expect(anomalyToJson(shuffled)).toBe(anomalyToJson(body));
  });

  it("refuses to write non-finite numbers instead of writing null", () => {
    const body = raised();
    const bad: AnomalyBody[] = [
      { ...body, score: Number.NaN },
      { ...body, ts: Number.POSITIVE_INFINITY },
      { ...body, detectors: [{ detector: "power-profile", probability: 0.9, score: Number.NaN }] },
      { ...body, tags: [{ tag: "spindle_kw", weight: 1, value: Number.NEGATIVE_INFINITY }] },
      { ...ended(), durationMs: Number.NaN },
    ];
    for (const b of bad) {
      expect(() => anomalyToJson(b)).toThrow(AnomalyBodyError);
    }
  });

  it.each([
    ["not JSON", "{", /not JSON/],
    ["an array", "[]", /an array/],
    ["another kind", JSON.stringify({ kind: "sample" }), /"kind" is "sample"/],
  ])("refuses %s", (_what, text, message) => {
    expect(() => anomalyFromJson(text)).toThrow(message);
  });

  it.each<[string, (b: Record<string, unknown>) => void, RegExp]>([
    ["a score above 1", (b) => (b.score = 1.5), /score/],
    ["an unknown type", (b) => (b.type = "gremlins"), /type/],
    ["an unknown severity", (b) => (b.severity = "SEVERE"), /severity/],
    ["an unknown state", (b) => (b.state = "closed"), /state/],
    ["an extra field", (b) => (b.extra = 1), /extra/],
    ["no tags", (b) => (b.tags = []), /tags/],
    ["more than five tags", (b) => (b.tags = Array(6).fill({ tag: "t", weight: 0.1 })), /tags/],
    [
      "an unknown detector",
      (b) => (b.detectors = [{ detector: "lstm", probability: 0.9, score: 1 }]),
      /detector/,
    ],
    ["a device id with a space", (b) => (b.device = "press 2"), /device/],
    ["a timestamp as a string", (b) => (b.ts = "1795320853000"), /ts/],
    ["an explanation of 300 characters", (b) => (b.explanation = "x".repeat(300)), /explanation/],
    ["ended fields on a raised record", (b) => (b.endedTs = 1), /endedTs/],
  ])("refuses a raised record with %s", (_what, spoil, message) => {
    const b = JSON.parse(anomalyToJson(raised())) as Record<string, unknown>;
    spoil(b);
    expect(() => anomalyFromJson(JSON.stringify(b))).toThrow(message);
  });

  it.each<[string, (b: Record<string, unknown>) => void, RegExp]>([
    ["no endedTs", (b) => delete b.endedTs, /endedTs/],
    ["a negative duration", (b) => (b.durationMs = -1), /durationMs/],
    ["a peak score below its score", (b) => (b.peakScore = 0.5), /peakScore/],
    ["a peak severity below its severity", (b) => (b.peakSeverity = "LOW"), /peakSeverity/],
    ["an unknown reason", (b) => (b.reason = "bored"), /reason/],
  ])("refuses an ended record with %s", (_what, spoil, message) => {
    const b = JSON.parse(anomalyToJson(ended())) as Record<string, unknown>;
    spoil(b);
    expect(() => anomalyFromJson(JSON.stringify(b))).toThrow(message);
  });
});
