/** The append queue (issue #5): FIFO order through sheds, partial takes and put-backs. */
import { expect, it } from "vitest";
import { RecordQueue } from "../../src/ledger/recordQueue.js";

it("keeps FIFO order through shifts, partial takes and put-backs, across compactions", () => {
  const queue = new RecordQueue<number>();
  for (let i = 0; i < 5_000; i++) {
    queue.push(i);
  }
  expect(queue.shift()).toBe(0);
  expect(queue.take(3)).toEqual([1, 2, 3]);
  for (let i = 4; i < 3_000; i++) {
    expect(queue.shift()).toBe(i);
  }
  expect(queue.length).toBe(2_000);
  queue.unshiftAll([-2, -1]);
  expect(queue.take(4)).toEqual([-2, -1, 3_000, 3_001]);
  const rest = queue.takeAll();
  expect(rest).toHaveLength(1_998);
  expect(rest[0]).toBe(3_002);
  expect(rest.at(-1)).toBe(4_999);
  expect(queue.length).toBe(0);
  expect(queue.shift()).toBeUndefined();
  expect(queue.take(10)).toEqual([]);
});
