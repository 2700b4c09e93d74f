/**
 * The ReceiverState contract (issue #7 item 2), written once so that the PostgreSQL state to come
 * runs the same suite as the in-memory one (STYLE.md: a contract suite per seam).
 */
import { describe, expect, it } from "vitest";
import type { ReceiverState } from "../../src/receiver/index.js";

export const link = (seq: number) => ({
  seq,
  prev: `${seq - 1}`.padStart(64, "0"),
  hash: `${seq}`.padStart(64, "0"),
});

export function receiverStateContract(name: string, make: () => ReceiverState): void {
  describe(`ReceiverState contract: ${name}`, () => {
    it("starts every gateway at seq 0 with no hash", () => {
      expect(make().head("gw")).toEqual({ seq: 0, hash: undefined });
    });

    it("remembers links above the head and counts them, per gateway", () => {
      const state = make();
      state.markStored("gw", link(3));
      state.markStored("gw", link(5));
      state.markStored("other", link(9));

      expect(state.link("gw", 5)).toEqual(link(5));
      expect(state.link("gw", 4)).toBeUndefined();
      expect(state.aheadCount("gw")).toBe(2);
      expect(state.aheadBelow("gw", 5)).toBe(3);
      expect(state.aheadBelow("gw", 3)).toBeUndefined();
      expect(state.link("other", 5)).toBeUndefined();
    });

    it("keeps the links the head passes over, no longer counted as ahead", () => {
      const state = make();
      state.markStored("gw", link(1));
      state.markStored("gw", link(2));
      state.setHead("gw", { seq: 2, hash: link(2).hash });

      expect(state.head("gw")).toEqual({ seq: 2, hash: link(2).hash });
      expect(state.aheadCount("gw")).toBe(0);
      expect(state.link("gw", 2)).toEqual(link(2));
    });
  });
}
