/** Request planner unit cases (issue #4, FAULTS 8.3): gaps, shared registers, limits, describePlan. */
import { describe, expect, it } from "vitest";
import type { ModbusTable, RegisterType } from "../../../src/config/schema/tags.js";
import { describePlan, type PlannableTag, planReads } from "../../../src/sources/modbus/requestPlanner.js";

const device = { unitId: 1, maxGap: 16, maxRegistersPerRead: 125, maxBitsPerRead: 2000 };

function tag(
  name: string,
  address: number,
  type: RegisterType = "uint16",
  table: ModbusTable = "holding",
): PlannableTag {
  return { name, table, address, type };
}

const ranges = (plan: ReturnType<typeof planReads>) => plan.map((read) => [read.start, read.count]);

describe("planReads", () => {
  it("with maxGap 0 coalesces only contiguous tags", () => {
    const tags = [tag("a", 10), tag("b", 11, "float32"), tag("c", 14), tag("d", 13)];
    expect(ranges(planReads(tags, { ...device, maxGap: 0 }))).toEqual([[10, 5]]);
    expect(ranges(planReads([tag("a", 10), tag("b", 12)], { ...device, maxGap: 0 }))).toEqual([
      [10, 1],
      [12, 1],
    ]);
    expect(ranges(planReads([tag("a", 10), tag("b", 12)], { ...device, maxGap: 1 }))).toEqual([[10, 3]]);
  });

  it("serves two bits of one register and overlapping tags with one read", () => {
    const bits: PlannableTag[] = [
      { name: "running", table: "holding", address: 7, type: "bool" },
      { name: "tripped", table: "holding", address: 7, type: "bool" },
      { name: "word", table: "holding", address: 6, type: "uint32" },
    ];
    const plan = planReads(bits, device);
    expect(plan).toEqual([
      {
        unitId: 1,
        table: "holding",
        start: 6,
        count: 2,
        tags: [
          { name: "word", offset: 0, span: 2 },
          { name: "running", offset: 1, span: 1 },
          { name: "tripped", offset: 1, span: 1 },
        ],
      },
    ]);
  });

  it("reads a 125-register string alone and never more than 125 registers", () => {
    const tags: PlannableTag[] = [
      tag("before", 0),
      { name: "label", table: "holding", address: 1, type: "string", length: 125 },
      tag("after", 126),
    ];
    expect(ranges(planReads(tags, device))).toEqual([
      [0, 1],
      [1, 125],
      [126, 1],
    ]);
    const dense = Array.from({ length: 300 }, (_, i) => tag(`r${i}`, i));
    expect(ranges(planReads(dense, device))).toEqual([
      [0, 125],
      [125, 125],
      [250, 50],
    ]);
  });

  it("limits bit tables to 2000 bits per read, registers to 125", () => {
    const coils = Array.from({ length: 2500 }, (_, i) => tag(`c${i}`, i, "bool", "coil"));
    expect(ranges(planReads(coils, device))).toEqual([
      [0, 2000],
      [2000, 500],
    ]);
    const inputs = Array.from({ length: 130 }, (_, i) => tag(`i${i}`, i, "int16", "input"));
    expect(ranges(planReads(inputs, { ...device, maxRegistersPerRead: 60 }))).toEqual([
      [0, 60],
      [60, 60],
      [120, 10],
    ]);
  });

  it("ends reads at the last address 65535 and refuses tags beyond it", () => {
    const top = [tag("last", 65_535), tag("below", 65_530, "float64")];
    const plan = planReads(top, device);
    expect(ranges(plan)).toEqual([[65_530, 6]]);
    expect(() => planReads([tag("over", 65_535, "float32")], device)).toThrow(RangeError);
  });

  it("refuses tags of mixed tables and plans nothing for no tags", () => {
    expect(planReads([], device)).toEqual([]);
    expect(() => planReads([tag("a", 1), tag("b", 2, "uint16", "input")], device)).toThrow(
      /input, not holding/,
    );
  });

  it("prefers the plan reading fewer registers among those with the fewest reads", () => {
    // Greedy would read 0..9 and 12; 0 and 5..12 is as few reads and fewer registers.
    const tags = [tag("a", 0), tag("b", 5), tag("c", 9), tag("d", 12)];
    expect(ranges(planReads(tags, { ...device, maxGap: 10, maxRegistersPerRead: 10 }))).toEqual([
      [0, 1],
      [5, 8],
    ]);
  });
});

describe("describePlan", () => {
  it("prints each read, its range and the tags it serves", () => {
    const tags = [
      tag("motor_current", 100, "float32"),
      tag("dc_bus_voltage", 102, "float32"),
      tag("state", 131),
    ];
    const coils = [tag("pump", 3, "bool", "coil")];
    expect(
      describePlan([...planReads(tags, { ...device, maxGap: 30 }), ...planReads(coils, device)]),
    ).toEqual([
      "holding 100..131 (32 registers): motor_current@100, dc_bus_voltage@102, state@131",
      "coil 3..3 (1 bit): pump@3",
    ]);
  });
});
