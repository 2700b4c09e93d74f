/**
 * Crypto benchmark (issue #3): Ascon-AEAD128 against node:crypto's AES-256-GCM and
 * ChaCha20-Poly1305, and Ascon-Hash256 against SHA-256, in one run on one machine. Each cipher
 * call is a whole message: for node:crypto createCipheriv + update + final + getAuthTag, for
 * Ascon asconAead128(key, nonce, ad).encrypt(message). Prints JSON.
 *
 *   npm run bench:crypto            (builds, then runs)
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { asconAead128, asconHash256 } from "../../src/crypto/ascon/index.js";

const SIZES = [16, 64, 256, 1024, 16384] as const;
const AD_SIZES = [0, 16] as const;
/** Each figure is the best of this many timed rounds, to damp other load on the machine. */
const ROUNDS = 7;
/** Bytes processed per timed round. */
const WORK_BYTES = 4 * 1024 * 1024;

interface Figure {
  readonly nsPerMessage: number;
  readonly mbPerSecond: number;
}

/**
 * Times the contenders on one message size, interleaved: every round times each of them in turn,
 * so that all see the same phases of a shared machine (this VM's speed swings by 2x over
 * seconds); each figure is the best round.
 */
function measureGroup(
  size: number,
  contenders: Record<string, (message: Uint8Array) => void>,
): Record<string, Figure> {
  const message = randomBytes(size);
  const iterations = Math.max(2000, Math.ceil(WORK_BYTES / size));
  const entries = Object.entries(contenders);
  for (const [, run] of entries) {
    for (let i = 0; i < iterations; i++) {
      run(message); // warm-up: let the JIT settle
    }
  }
  const best = new Map(entries.map(([name]) => [name, Number.POSITIVE_INFINITY]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of entries) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) {
        run(message);
      }
      const ns = Number(process.hrtime.bigint() - start) / iterations;
      best.set(name, Math.min(best.get(name) ?? ns, ns));
    }
  }
  return Object.fromEntries(
    entries.map(([name]) => {
      const ns = best.get(name) ?? Number.NaN;
      return [name, { nsPerMessage: Math.round(ns), mbPerSecond: Math.round((size / ns) * 1000 * 10) / 10 }];
    }),
  );
}

const key16 = randomBytes(16);
const key32 = randomBytes(32);
const nonce16 = randomBytes(16);
const nonce12 = randomBytes(12);

function nodeAead(algorithm: "aes-256-gcm" | "chacha20-poly1305", ad: Uint8Array) {
  return (message: Uint8Array) => {
    // Both default to a 16-byte tag; chacha20-poly1305 wants it stated (node:crypto docs).
    const cipher =
      algorithm === "aes-256-gcm"
        ? createCipheriv(algorithm, key32, nonce12)
        : createCipheriv(algorithm, key32, nonce12, { authTagLength: 16 });
    if (ad.length > 0) {
      cipher.setAAD(ad, { plaintextLength: message.length });
    }
    cipher.update(message);
    cipher.final();
    cipher.getAuthTag();
  };
}

const aead: Record<string, Record<string, Record<string, Figure>>> = {};
for (const adSize of AD_SIZES) {
  const ad = randomBytes(adSize);
  const row: Record<string, Record<string, Figure>> = {};
  for (const size of SIZES) {
    row[String(size)] = measureGroup(size, {
      asconAead128: (m) => asconAead128(key16, nonce16, ad).encrypt(m),
      "aes-256-gcm": nodeAead("aes-256-gcm", ad),
      "chacha20-poly1305": nodeAead("chacha20-poly1305", ad),
    });
  }
  aead[`ad${adSize}`] = row;
}

const hash: Record<string, Record<string, Figure>> = {};
for (const size of SIZES) {
  hash[String(size)] = measureGroup(size, {
    asconHash256: (m) => asconHash256(m),
    sha256: (m) => createHash("sha256").update(m).digest(),
  });
}

const at = (ad: string, size: number, algorithm: string) => aead[ad]?.[String(size)]?.[algorithm];
const ascon64 = at("ad0", 64, "asconAead128")?.nsPerMessage ?? Number.NaN;
const gcm64 = at("ad0", 64, "aes-256-gcm")?.nsPerMessage ?? Number.NaN;

console.log(
  JSON.stringify(
    {
      bench: "crypto",
      date: new Date().toISOString(),
      machine: {
        nproc: availableParallelism(),
        cpu: cpus()[0]?.model ?? "unknown",
        node: process.version,
        arch: process.arch,
      },
      method: `best of ${ROUNDS} rounds of ~${WORK_BYTES / 1024 / 1024} MiB each, contenders interleaved round by round; one call = one whole message`,
      summary: {
        asconAead128At16KiB_MBps: at("ad0", 16384, "asconAead128")?.mbPerSecond,
        asconVsAesGcmAt64B_speedup: Math.round((gcm64 / ascon64) * 100) / 100,
      },
      aead,
      hash,
    },
    null,
    2,
  ),
);
