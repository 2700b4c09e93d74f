/** Reconnect delays (issue #5; FAULTS 8.1): doubling from initialDelay, capped, jittered in [d/2, d], reset. */
import { describe, expect, it } from "vitest";
import { ReconnectBackoff } from "../../src/uplink/reconnectBackoff.js";

describe("ReconnectBackoff", () => {
  it("doubles from the initial delay up to the cap, at the top of the jitter range", () => {
    const backoff = new ReconnectBackoff({ initialDelayMs: 1000, maxDelayMs: 60_000 }, () => 1);
    expect(Array.from({ length: 9 }, () => backoff.next())).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("draws each delay from [delay / 2, delay]", () => {
    const low = new ReconnectBackoff({ initialDelayMs: 1000, maxDelayMs: 8000 }, () => 0);
    expect(Array.from({ length: 5 }, () => low.next())).toEqual([500, 1000, 2000, 4000, 4000]);
    let seed = 1;
    const random = () => {
      seed = (seed * 16_807) % 2_147_483_647;
      return seed / 2_147_483_647;
    };
    const jittered = new ReconnectBackoff({ initialDelayMs: 100, maxDelayMs: 10_000 }, random);
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(10_000, 100 * 2 ** attempt);
      const delay = jittered.next();
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it("starts over after reset, and never overflows after many failures", () => {
    const backoff = new ReconnectBackoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 1);
    for (let i = 0; i < 5000; i++) {
      backoff.next();
    }
    expect(backoff.next()).toBe(1000);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
