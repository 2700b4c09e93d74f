/**
 * Planner optimality (issue #4 "must show"): for random scattered maps the planner reads as few
 * times as a brute force over every partition of the tags, then as few addresses, and its plan is
 * valid: every tag served once, within its read, limits, gaps, holes and cuts respected.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type LearntTableLimits,
  planSpans,
  type ReadPlan,
  type TagSpan,
} from "../../../src/sources/modbus/requestPlanner.js";

interface OracleLimits {
  readonly max: number;
  readonly maxGap: number;
  readonly learnt: LearntTableLimits;
}

/** Whether one read may serve exactly these tags, straight from the definition. */
function readAllowed(tags: readonly TagSpan[], limits: OracleLimits): boolean {
  if (tags.length === 1) {
    return true;
  }
  const { holes, cuts } = limits.learnt;
  const touches = (start: number, end: number) =>
    holes.some((hole) => hole.start < end && start < hole.end) ||
    cuts.some((cut) => start < cut && cut < end);
  if (tags.some((tag) => tag.span > limits.max || touches(tag.address, tag.address + tag.span))) {
    return false;
  }
  const start = Math.min(...tags.map((tag) => tag.address));
  const end = Math.max(...tags.map((tag) => tag.address + tag.span));
  if (end - start > limits.max || end > 65_536 || touches(start, end)) {
    return false;
  }
  const used = new Array<boolean>(end - start).fill(false);
  for (const tag of tags) {
    for (let a = tag.address; a < tag.address + tag.span; a++) {
      used[a - start] = true;
    }
  }
  let run = 0;
  for (const isUsed of used) {
    run = isUsed ? 0 : run + 1;
    if (run > limits.maxGap) {
      return false;
    }
  }
  return true;
}

interface PlanCost {
  readonly reads: number;
  readonly addresses: number;
}

/** Fewest reads, then fewest addresses, over every partition of the tags (DP over subsets). */
function bruteForceCost(tags: readonly TagSpan[], limits: OracleLimits): PlanCost {
  const n = tags.length;
  const full = (1 << n) - 1;
  const allowed = new Array<number>(full + 1).fill(-1); // addresses read, or -1 when not allowed
  for (let mask = 1; mask <= full; mask++) {
    const subset = tags.filter((_, i) => (mask >> i) & 1);
    if (readAllowed(subset, limits)) {
      const start = Math.min(...subset.map((tag) => tag.address));
      allowed[mask] = Math.max(...subset.map((tag) => tag.address + tag.span)) - start;
    }
  }
  const best: PlanCost[] = [{ reads: 0, addresses: 0 }];
  for (let mask = 1; mask <= full; mask++) {
    const lowest = mask & -mask;
    let chosen: PlanCost = { reads: Number.POSITIVE_INFINITY, addresses: 0 };
    for (let sub = mask; sub > 0; sub = (sub - 1) & mask) {
      const addresses = allowed[sub] ?? -1;
      const rest = best[mask ^ sub];
      if ((sub & lowest) === 0 || addresses < 0 || rest === undefined) {
        continue;
      }
      const cost = { reads: rest.reads + 1, addresses: rest.addresses + addresses };
      if (cost.reads < chosen.reads || (cost.reads === chosen.reads && cost.addresses < chosen.addresses)) {
        chosen = cost;
      }
    }
    best[mask] = chosen;
  }
  return best[full] ?? { reads: Number.POSITIVE_INFINITY, addresses: 0 };
}

/** Problems with a plan for these tags, empty when it is valid. */
function planProblems(plan: ReadPlan, tags: readonly TagSpan[], limits: OracleLimits): string[] {
  const problems: string[] = [];
  const servedBy = new Map<string, number>();
  for (const read of plan) {
    if (read.start < 0 || read.start + read.count > 65_536 || read.count < 1) {
      problems.push(`read ${read.start}+${read.count} is outside the address space`);
    }
    const served: TagSpan[] = [];
    for (const servedTag of read.tags) {
      servedBy.set(servedTag.name, (servedBy.get(servedTag.name) ?? 0) + 1);
      const tag = tags.find((candidate) => candidate.name === servedTag.name);
      if (tag === undefined || tag.address !== read.start + servedTag.offset || tag.span !== servedTag.span) {
        problems.push(`read ${read.start} misplaces ${servedTag.name}`);
        continue;
      }
      if (servedTag.offset < 0 || servedTag.offset + servedTag.span > read.count) {
        problems.push(`${servedTag.name} sticks out of read ${read.start}+${read.count}`);
      }
      served.push(tag);
    }
    const start = Math.min(...served.map((tag) => tag.address));
    const end = Math.max(...served.map((tag) => tag.address + tag.span));
    if (start !== read.start || end !== read.start + read.count) {
      problems.push(`read ${read.start}+${read.count} is wider than its tags`);
    }
    if (!readAllowed(served, limits)) {
      problems.push(`read ${read.start}+${read.count} breaks a limit, gap, hole or cut`);
    }
  }
  for (const tag of tags) {
    if (servedBy.get(tag.name) !== 1) {
      problems.push(`${tag.name} is served ${servedBy.get(tag.name) ?? 0} times`);
    }
  }
  return problems;
}

interface Scenario {
  readonly tags: readonly TagSpan[];
  readonly configuredMax: number;
  readonly limits: OracleLimits;
}

/** Up to 10 tags in 0..80, spans 1..4 (never wider than the configured max, as config enforces). */
function scenario(withLearning: boolean): fc.Arbitrary<Scenario> {
  const learnt = withLearning
    ? fc.record({
        maxPerRead: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
        holes: fc.array(
          fc
            .record({ start: fc.integer({ min: 0, max: 84 }), length: fc.integer({ min: 1, max: 4 }) })
            .map(({ start, length }) => ({ start, end: start + length })),
          { maxLength: 2 },
        ),
        cuts: fc.array(fc.integer({ min: 1, max: 84 }), { maxLength: 2 }),
      })
    : fc.constant({ maxPerRead: undefined, holes: [], cuts: [] });
  return fc
    .record({
      configuredMax: fc.integer({ min: 2, max: 20 }),
      maxGap: fc.integer({ min: 0, max: 5 }),
      raw: fc.array(
        fc.record({ address: fc.integer({ min: 0, max: 80 }), span: fc.integer({ min: 1, max: 4 }) }),
        {
          minLength: 1,
          maxLength: 10,
        },
      ),
      learnt,
    })
    .map(({ configuredMax, maxGap, raw, learnt: table }) => ({
      tags: raw.map((tag, i) => ({
        name: `t${i}`,
        address: tag.address,
        span: Math.min(tag.span, configuredMax),
      })),
      configuredMax,
      limits: {
        max: Math.min(configuredMax, table.maxPerRead ?? configuredMax),
        maxGap,
        learnt: table,
      },
    }));
}

function plan({ tags, configuredMax, limits }: Scenario): ReadPlan {
  const device = {
    unitId: 1,
    maxGap: limits.maxGap,
    maxRegistersPerRead: configuredMax,
    maxBitsPerRead: 2000,
  };
  return planSpans(tags, "holding", device, limits.learnt);
}

describe("request planner optimality", () => {
  it.each([
    ["reads as few times (then as few registers) as the brute force, with a valid plan", false],
    ["stays minimal with learnt holes, cuts and a lowered maximum", true],
  ])("%s", (_name, withLearning) => {
    fc.assert(
      fc.property(scenario(withLearning), (case_) => {
        const reads = plan(case_);
        expect(planProblems(reads, case_.tags, case_.limits)).toEqual([]);
        const best = bruteForceCost(case_.tags, case_.limits);
        expect(reads.length).toBe(best.reads);
        expect(reads.reduce((sum, read) => sum + read.count, 0)).toBe(best.addresses);
      }),
      { numRuns: 300 },
    );
  });
});
