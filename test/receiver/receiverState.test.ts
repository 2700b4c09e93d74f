/** The in-memory ReceiverState: the shared contract, and its bound on remembered links. */
import { describe, expect, it } from "vitest";
import { MemoryReceiverState } from "../../src/receiver/index.js";
import { link, receiverStateContract } from "./receiverStateContract.js";

receiverStateContract("memory", () => new MemoryReceiverState());

describe("MemoryReceiverState", () => {
  it("forgets the oldest links at or below the head beyond its bound", () => {
    const state = new MemoryReceiverState({ maxRecent: 3 });
    for (let seq = 1; seq <= 5; seq++) {
      state.markStored("gw", link(seq));
      state.setHead("gw", { seq, hash: link(seq).hash });
    }

    expect([1, 2, 3, 4, 5].map((seq) => state.link("gw", seq) !== undefined)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });
});
