/**
 * Every official known-answer entry (NIST SP 800-232 via ascon-c, and the NIST ACVP sample
 * subset) and, to prove the variant, that none of the pre-standard v1.2 answers come out.
 */
import { describe, expect, it } from "vitest";
import { aeadWithTagLength } from "../../src/crypto/ascon/aead.js";
import { asconAead128, asconCxof128, asconHash256, asconXof128 } from "../../src/crypto/ascon/index.js";
import { hex, parseKat, readVectorFile, sha256Hex, toHex, upstreamChecksums } from "../helpers/kat.js";

const FILES = {
  aead: "sp800-232/asconaead128/LWC_AEAD_KAT_128_128.txt",
  hash: "sp800-232/asconhash256/LWC_HASH_KAT_128_256.txt",
  xof: "sp800-232/asconxof128/LWC_XOF_KAT_128_512.txt",
  cxof: "sp800-232/asconcxof128/LWC_CXOF_KAT_128_512.txt",
  aeadOldInputs: "sp800-232-kat-v1-inputs/asconaead128/LWC_AEAD_KAT_128_128.txt",
  xofOldInputs: "sp800-232-kat-v1-inputs/asconxof128/LWC_HASH_KAT_256.txt",
  cxofOldInputs: "sp800-232-kat-v1-inputs/asconcxof128/LWC_CXOF_KAT_256.txt",
  v12Aead: "v1.2/ascon128v12/LWC_AEAD_KAT_128_128.txt",
  v12AeadA: "v1.2/ascon128av12/LWC_AEAD_KAT_128_128.txt",
  v12Hash: "v1.2/asconhashv12/LWC_HASH_KAT_256.txt",
  v12Xof: "v1.2/asconxofv12/LWC_HASH_KAT_256.txt",
  acvpAead: "acvp-subset/ascon_aead128.acvp.kat",
  acvpHash: "acvp-subset/ascon_hash256.acvp.kat",
  acvpXof: "acvp-subset/ascon_xof128.acvp.kat",
  acvpCxof: "acvp-subset/ascon_cxof128.acvp.kat",
} as const;

const kat = (path: string) => parseKat(readVectorFile(path));

describe("the vendored vectors", () => {
  it("are byte-identical to the upstream files (SHA256SUMS)", () => {
    const sums = upstreamChecksums();
    for (const path of Object.values(FILES)) {
      expect(sha256Hex(readVectorFile(path)), path).toBe(sums.get(path));
    }
  });
});

describe("Ascon-AEAD128 (SP 800-232)", () => {
  for (const [name, path] of [
    ["official KAT", FILES.aead],
    ["official KAT, older input pattern", FILES.aeadOldInputs],
  ] as const) {
    it(`encrypts and decrypts all 1089 entries of the ${name}`, () => {
      const records = kat(path);
      expect(records).toHaveLength(1089);
      for (const r of records) {
        const expected = r.CT ?? "";
        const ct = asconAead128(hex(r.Key), hex(r.Nonce), hex(r.AD)).encrypt(hex(r.PT));
        expect(toHex(ct), `Count ${r.Count}`).toBe(expected);
        const pt = asconAead128(hex(r.Key), hex(r.Nonce), hex(r.AD)).decrypt(hex(expected));
        expect(toHex(pt), `Count ${r.Count}`).toBe(r.PT);
      }
    });
  }

  it("passes the NIST ACVP subset, including truncated tags and the must-fail decryptions", () => {
    const records = kat(FILES.acvpAead);
    expect(records).toHaveLength(120);
    let mustFail = 0;
    for (const r of records) {
      const tag = hex(r.Tag);
      const aead = () => aeadWithTagLength(hex(r.Key), hex(r.Nonce), hex(r.AD), tag.length);
      const sealed = new Uint8Array([...hex(r.CT), ...tag]);
      if (r.TestPassed === "True") {
        expect(toHex(aead().encrypt(hex(r.PT))), `Count ${r.Count}`).toBe(toHex(sealed));
        expect(toHex(aead().decrypt(sealed)), `Count ${r.Count}`).toBe(r.PT);
      } else {
        mustFail++;
        expect(() => aead().decrypt(sealed), `Count ${r.Count}`).toThrow(/authentication failed/);
      }
    }
    expect(mustFail).toBe(30);
  });

  it("is not the pre-standard Ascon-128 or Ascon-128a v1.2: none of their 2 x 1089 answers come out", () => {
    for (const path of [FILES.v12Aead, FILES.v12AeadA]) {
      const matches = kat(path).filter(
        (r) => toHex(asconAead128(hex(r.Key), hex(r.Nonce), hex(r.AD)).encrypt(hex(r.PT))) === r.CT,
      );
      expect(
        matches.map((r) => r.Count),
        path,
      ).toEqual([]);
    }
  });
});

describe("Ascon-Hash256, Ascon-XOF128 and Ascon-CXOF128 (SP 800-232)", () => {
  it("hashes all 1025 entries of the Hash256 KAT and the ACVP subset", () => {
    const records = kat(FILES.hash);
    expect(records).toHaveLength(1025);
    for (const r of [...records, ...kat(FILES.acvpHash)]) {
      expect(toHex(asconHash256(hex(r.Msg))), `Count ${r.Count}`).toBe(r.MD);
    }
  });

  it("derives all 1025 entries of the XOF128 KATs (64- and 32-byte outputs) and the ACVP subset", () => {
    const records = [...kat(FILES.xof), ...kat(FILES.xofOldInputs), ...kat(FILES.acvpXof)];
    expect(records).toHaveLength(1025 + 1025 + 60);
    for (const r of records) {
      const md = r.MD ?? "";
      expect(toHex(asconXof128(hex(r.Msg), { dkLen: md.length / 2 })), `Count ${r.Count}`).toBe(md);
    }
  });

  it("derives all 1089 entries of the CXOF128 KATs (64- and 32-byte outputs) and the ACVP subset", () => {
    const records = [...kat(FILES.cxof), ...kat(FILES.cxofOldInputs), ...kat(FILES.acvpCxof)];
    expect(records).toHaveLength(1089 + 1089 + 60);
    for (const r of records) {
      const md = r.MD ?? "";
      const out = asconCxof128(hex(r.Msg), { customization: hex(r.Z), dkLen: md.length / 2 });
      expect(toHex(out), `Count ${r.Count}`).toBe(md);
    }
  });

  it("is not the pre-standard Ascon-Hash or Ascon-Xof v1.2", () => {
    const hashMatches = kat(FILES.v12Hash).filter((r) => toHex(asconHash256(hex(r.Msg))) === r.MD);
    const xofMatches = kat(FILES.v12Xof).filter(
      (r) => toHex(asconXof128(hex(r.Msg), { dkLen: 32 })) === r.MD,
    );
    expect(hashMatches.map((r) => r.Count)).toEqual([]);
    expect(xofMatches.map((r) => r.Count)).toEqual([]);
  });
});
