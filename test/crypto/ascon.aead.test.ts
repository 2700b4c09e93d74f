/** Ascon-AEAD128 behaviour beyond the known answers: tampering, truncation, round trips, misuse. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AsconAuthError, asconAead128, asconCxof128, asconXof128 } from "../../src/crypto/ascon/index.js";

const bytes = (length: number, start = 0) => Uint8Array.from({ length }, (_, i) => (start + i * 7) & 0xff);
const KEY = bytes(16, 1);
const NONCE = bytes(16, 50);
const AD = bytes(21, 100);
const PLAINTEXT = bytes(41, 200);

function flipped(data: Uint8Array, bit: number): Uint8Array {
  const copy = data.slice();
  copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return copy;
}

describe("Ascon-AEAD128 rejects every alteration", () => {
  const sealed = asconAead128(KEY, NONCE, AD).encrypt(PLAINTEXT);

  it("opens the untouched message", () => {
    expect(asconAead128(KEY, NONCE, AD).decrypt(sealed)).toEqual(PLAINTEXT);
  });

  it("rejects every single-bit flip of the ciphertext and of the tag", () => {
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      expect(() => asconAead128(KEY, NONCE, AD).decrypt(flipped(sealed, bit)), `bit ${bit}`).toThrow(
        AsconAuthError,
      );
    }
  });

  it("rejects every single-bit flip of the nonce and of the associated data", () => {
    for (let bit = 0; bit < 128; bit++) {
      expect(() => asconAead128(KEY, flipped(NONCE, bit), AD).decrypt(sealed), `nonce bit ${bit}`).toThrow(
        AsconAuthError,
      );
    }
    for (let bit = 0; bit < AD.length * 8; bit++) {
      expect(() => asconAead128(KEY, NONCE, flipped(AD, bit)).decrypt(sealed), `AD bit ${bit}`).toThrow(
        AsconAuthError,
      );
    }
  });

  it("rejects every truncation and an appended byte", () => {
    for (let length = 0; length < sealed.length; length++) {
      expect(
        () => asconAead128(KEY, NONCE, AD).decrypt(sealed.subarray(0, length)),
        `length ${length}`,
      ).toThrow(AsconAuthError);
    }
    expect(() => asconAead128(KEY, NONCE, AD).decrypt(new Uint8Array([...sealed, 0]))).toThrow(
      AsconAuthError,
    );
  });

  it("rejects a wrong key and a moved associated-data boundary", () => {
    expect(() => asconAead128(flipped(KEY, 77), NONCE, AD).decrypt(sealed)).toThrow(AsconAuthError);
    expect(() => asconAead128(KEY, NONCE, AD.subarray(0, 20)).decrypt(sealed)).toThrow(AsconAuthError);
    expect(() => asconAead128(KEY, NONCE).decrypt(sealed)).toThrow(AsconAuthError);
  });

  it("releases no plaintext when the tag fails: it throws instead of returning", () => {
    let released: Uint8Array | undefined;
    try {
      released = asconAead128(KEY, NONCE, AD).decrypt(flipped(sealed, sealed.length * 8 - 1));
    } catch (error) {
      expect(error).toBeInstanceOf(AsconAuthError);
      expect(String(error)).not.toMatch(/[0-9a-f]{8}/i); // no key, tag or data in the message
    }
    expect(released).toBeUndefined();
  });
});

describe("Ascon-AEAD128 round trips", () => {
  it("decrypt(encrypt(x)) = x for every length 0..80 (all block boundaries) and AD lengths 0..33", () => {
    for (let length = 0; length <= 80; length++) {
      for (const adLength of [0, 1, 15, 16, 17, 32, 33]) {
        const pt = bytes(length, length);
        const ad = bytes(adLength, 3);
        const sealed = asconAead128(KEY, NONCE, ad).encrypt(pt);
        expect(sealed.length).toBe(length + 16);
        expect(asconAead128(KEY, NONCE, ad).decrypt(sealed)).toEqual(pt);
      }
    }
  });

  it("decrypt(encrypt(x)) = x for random keys, nonces, data and AD (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 70 }),
        (key, nonce, pt, ad) => {
          const sealed = asconAead128(key, nonce, ad).encrypt(pt);
          expect(asconAead128(key, nonce, ad).decrypt(sealed)).toEqual(pt);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("works on views at odd offsets into larger buffers (Node Buffers, subarrays)", () => {
    const backing = Buffer.alloc(200, 0xaa);
    const pt = backing.subarray(3, 3 + 37);
    const ad = backing.subarray(51, 51 + 19);
    const sealed = asconAead128(KEY, NONCE, ad).encrypt(pt);
    const expected = asconAead128(KEY, NONCE, Uint8Array.from(ad)).encrypt(Uint8Array.from(pt));
    expect(sealed).toEqual(expected);
    const tail = Buffer.concat([Buffer.alloc(5), sealed]).subarray(5);
    expect(asconAead128(KEY, NONCE, ad).decrypt(tail)).toEqual(Uint8Array.from(pt));
  });

  it("gives the same result on word-aligned and unaligned buffers of every size across the fast-path threshold", () => {
    for (const length of [255, 256, 257, 1000, 4096 + 7]) {
      const aligned = bytes(length, 9);
      const backing = new Uint8Array(length + 3);
      const unaligned = backing.subarray(1, 1 + length);
      unaligned.set(aligned);
      const ad = bytes(length, 4);
      const sealed = asconAead128(KEY, NONCE, ad).encrypt(aligned);
      expect(asconAead128(KEY, NONCE, ad).encrypt(unaligned), `length ${length}`).toEqual(sealed);
      const sealedBacking = new Uint8Array(sealed.length + 1);
      sealedBacking.set(sealed, 1);
      expect(asconAead128(KEY, NONCE, ad).decrypt(sealed), `length ${length}`).toEqual(aligned);
      expect(asconAead128(KEY, NONCE, ad).decrypt(sealedBacking.subarray(1)), `length ${length}`).toEqual(
        aligned,
      );
    }
  });

  it("supports tags truncated to 8..15 bytes, which verify only against themselves", () => {
    for (let tagLength = 8; tagLength <= 16; tagLength++) {
      const sealed = asconAead128(KEY, NONCE, AD, { tagLength }).encrypt(PLAINTEXT);
      const full = asconAead128(KEY, NONCE, AD).encrypt(PLAINTEXT);
      expect(sealed).toEqual(full.subarray(0, PLAINTEXT.length + tagLength));
      expect(asconAead128(KEY, NONCE, AD, { tagLength }).decrypt(sealed)).toEqual(PLAINTEXT);
    }
  });
});

describe("misuse is refused with a clear error", () => {
  it("validates key, nonce, associated data and tag length", () => {
    expect(() => asconAead128(bytes(15), NONCE)).toThrow("ascon-aead128: key must be 16 bytes (got 15)");
    expect(() => asconAead128(KEY, bytes(12))).toThrow("ascon-aead128: nonce must be 16 bytes (got 12)");
    expect(() => asconAead128([...KEY] as unknown as Uint8Array, NONCE)).toThrow("key must be a Uint8Array");
    expect(() => asconAead128(KEY, NONCE, "ad" as unknown as Uint8Array)).toThrow(
      "associated data must be a Uint8Array",
    );
    for (const tagLength of [0, 4, 7, 17, 8.5]) {
      expect(() => asconAead128(KEY, NONCE, AD, { tagLength })).toThrow("tag length must be 8 to 16 bytes");
    }
    expect(() => asconAead128(KEY, NONCE).encrypt("text" as unknown as Uint8Array)).toThrow(
      "plaintext must be a Uint8Array",
    );
  });

  it("refuses to encrypt twice with one instance (nonce reuse)", () => {
    const aead = asconAead128(KEY, NONCE);
    aead.encrypt(PLAINTEXT);
    expect(() => aead.encrypt(PLAINTEXT)).toThrow(/fresh nonce/);
  });

  it("reads key, nonce and AD when the instance is made, not later", () => {
    const key = KEY.slice();
    const nonce = NONCE.slice();
    const ad = AD.slice();
    const aead = asconAead128(key, nonce, ad);
    key.fill(0);
    nonce.fill(0);
    ad.fill(0);
    expect(aead.encrypt(PLAINTEXT)).toEqual(asconAead128(KEY, NONCE, AD).encrypt(PLAINTEXT));
  });

  it("validates XOF and CXOF output lengths and the customization size", () => {
    expect(() => asconXof128(PLAINTEXT, { dkLen: 0 })).toThrow(/dkLen must be a whole number/);
    expect(() => asconXof128(PLAINTEXT, { dkLen: 1.5 })).toThrow(/dkLen/);
    expect(() => asconCxof128(PLAINTEXT, { dkLen: 32, customization: bytes(257) })).toThrow(
      "asconCxof128: customization must be at most 256 bytes (got 257)",
    );
    expect(asconCxof128(PLAINTEXT, { dkLen: 32, customization: bytes(256) })).toHaveLength(32);
  });

  it("XOF output is a prefix-consistent stream: shorter outputs are prefixes of longer ones", () => {
    const long = asconXof128(PLAINTEXT, { dkLen: 100 });
    for (const dkLen of [1, 7, 8, 9, 16, 33, 99]) {
      expect(asconXof128(PLAINTEXT, { dkLen })).toEqual(long.subarray(0, dkLen));
    }
  });
});
