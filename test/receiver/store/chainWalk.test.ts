import { describe, expect, it } from "vitest";
import { GENESIS_PREV } from "../../../src/ledger/ledgerEntry.js";
import { type ChainRow, type WalkOptions, walkChain } from "../../../src/receiver/store/chainWalk.js";

/** Rows whose hash is "h<seq>" and prev "h<seq-1>" (genesis for seq 1). */
function rows(seqs: readonly number[], receivedAt = 0): ChainRow[] {
  return seqs.map((seq) => ({
    seq,
    prev: seq === 1 ? GENESIS_PREV : `h${seq - 1}`,
    hash: `h${seq}`,
    receivedAt,
  }));
}

const options: WalkOptions = {
  gateway: "gw",
  claims: [],
  now: 100_000,
  graceMs: 1_000,
  holes: "open-after-grace",
};

describe("walkChain", () => {
  it("splits a hole into the parts a gap entry names lost and the parts that are loss on the way", () => {
    const walk = walkChain({ seq: 3, hash: "h3" }, rows([10, 11]), {
      ...options,
      claims: [{ fromSeq: 6, toSeq: 7, reason: "retention" }],
    });

    expect(walk.events).toMatchObject([
      { type: "gap", state: "open", fromSeq: 4, toSeq: 5 },
      { type: "gap", state: "lost", fromSeq: 6, toSeq: 7, reason: "retention" },
      { type: "gap", state: "open", fromSeq: 8, toSeq: 9 },
    ]);
    // Across a gap the link cannot be checked: seq 10's prev is not compared with anything.
    expect(walk.position).toEqual({ seq: 11, hash: "h11" });
  });

  it("stops before a hole still within its grace, where it is", () => {
    const walk = walkChain({ seq: 0, hash: null }, rows([1, 2, 5], 99_500), options);

    expect(walk).toMatchObject({ waiting: true, events: [], position: { seq: 2, hash: "h2" } });
  });

  it("checks seq 1 against the genesis prev", () => {
    const [first] = rows([1]);
    const walk = walkChain(
      { seq: 0, hash: null },
      [{ ...(first as ChainRow), prev: "f".repeat(64) }],
      options,
    );

    expect(walk.events).toMatchObject([{ type: "tamper", reason: "prev-mismatch", seq: 1 }]);
  });

  it("lists holes in note mode without reporting them", () => {
    const walk = walkChain({ seq: 3, hash: "h3" }, rows([5]), { ...options, holes: "note", now: 0 });

    expect(walk).toMatchObject({ events: [], unexplained: [{ fromSeq: 4, toSeq: 4 }], waiting: false });
  });
});
