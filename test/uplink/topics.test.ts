/** Topic names (issue #5; docs/protocol.md §1): template rendering, the status topic, the bounded cache. */
import { describe, expect, it } from "vitest";
import { NO_DEVICE } from "../../src/ledger/ledgerEntry.js";
import { renderTopic, TopicRenderer } from "../../src/uplink/topics.js";

const settings = {
  prefix: "steel/eu",
  site: "hm3",
  gateway: "hm3-gw-01",
  template: "{prefix}/{site}/{gateway}/{device}/{stream}",
};

describe("TopicRenderer", () => {
  it("renders the default template with every placeholder and a prefix of several levels", () => {
    const topics = new TopicRenderer(settings);
    expect(topics.topic("press-2", "data").name).toBe("steel/eu/hm3/hm3-gw-01/press-2/data");
    expect(topics.topicOf({ device: NO_DEVICE, kind: "gap" }).name).toBe(
      "steel/eu/hm3/hm3-gw-01/_gateway/events",
    );
    expect(topics.topicOf({ device: "press-2", kind: "anomaly" }).name).toBe(
      "steel/eu/hm3/hm3-gw-01/press-2/alerts",
    );
    expect(topics.topicOf({ device: NO_DEVICE, kind: "checkpoint" }).name).toBe(
      "steel/eu/hm3/hm3-gw-01/_gateway/checkpoints",
    );
    expect(topics.topicOf({ device: NO_DEVICE, kind: "deadletter" }).name).toBe(
      "steel/eu/hm3/hm3-gw-01/_gateway/events",
    );
  });

  it("keeps the status topic at {prefix}/{site}/{gateway}/status whatever the template", () => {
    const topics = new TopicRenderer({ ...settings, template: "plants/{gateway}/{stream}" });
    expect(topics.statusTopic).toBe("steel/eu/hm3/hm3-gw-01/status");
    expect(topics.topic("press-2", "data").name).toBe("plants/hm3-gw-01/data");
  });

  it("counts UTF-8 bytes, not characters", () => {
    const topics = new TopicRenderer({ ...settings, prefix: "wärme" });
    const rendered = topics.topic("press-2", "data");
    expect(rendered.bytes).toBe(rendered.name.length + 1);
  });

  it("does not expand placeholders inside a value", () => {
    expect(renderTopic({ ...settings, prefix: "{site}" }, "d", "data")).toBe("{site}/hm3/hm3-gw-01/d/data");
  });

  it("caches rendered topics per (device, stream) within a bound", () => {
    const topics = new TopicRenderer(settings, 8);
    const first = topics.topic("press-2", "data");
    expect(topics.topic("press-2", "data")).toBe(first);
    for (let i = 0; i < 100; i++) {
      topics.topic(`device-${i}`, "data");
    }
    expect(topics.cached).toBeLessThanOrEqual(8);
    expect(topics.topic("press-2", "data")).toEqual(first);
  });
});
