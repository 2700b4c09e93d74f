import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GENERATED_ROUNDS_PATH, renderAsconRounds } from "../../scripts/generate-ascon-rounds.js";

describe("the generated Ascon rounds", () => {
  it("are what scripts/generate-ascon-rounds.ts renders (run `npm run generate` if this fails)", () => {
    const committed = readFileSync(join(import.meta.dirname, "..", "..", GENERATED_ROUNDS_PATH), "utf8");
    expect(committed).toBe(renderAsconRounds());
  });

  it("unroll exactly the SP 800-232 round constants: 12 in p12 and hashBlocks, the last 8 in p8 and the AEAD block loops", () => {
    const text = renderAsconRounds();
    const constantsOf = (name: string) => {
      const start = text.search(new RegExp(`\\nfunction ${name}\\(|\\nexport function ${name}\\(`));
      const end = text.slice(start + 1).search(/\n(export )?function /);
      return [
        ...text.slice(start, end === -1 ? undefined : start + 1 + end).matchAll(/x2l \^= (0x[0-9a-f]+);/g),
      ].map((m) => m[1]);
    };
    const all = [
      "0xf0",
      "0xe1",
      "0xd2",
      "0xc3",
      "0xb4",
      "0xa5",
      "0x96",
      "0x87",
      "0x78",
      "0x69",
      "0x5a",
      "0x4b",
    ];
    expect(constantsOf("p12")).toEqual(all);
    expect(constantsOf("hashBlocks")).toEqual(all);
    expect(constantsOf("p8")).toEqual(all.slice(4));
    for (const loop of ["aeadBlocksWords", "aeadBlocksBytes"]) {
      expect(constantsOf(loop), loop).toEqual(all.slice(4));
    }
  });
});
