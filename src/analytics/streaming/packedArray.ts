/**
 * Compact numeric arrays for the saved state of a streaming detector (issue #6 item 5: "models
 * survive a restart"; the daemon writes every tag's state to the SD card, so it must be small).
 *
 * An array is packed as base64 of the raw-deflated bytes of [coding byte, n little-endian
 * Float64s]. Float64 keeps every value bit for bit (a restored detector must continue exactly as
 * the original); deflate removes what a typed array still repeats: the constant steps of
 * regularly sampled timestamps and the few distinct values of a quantised signal (a Modbus
 * register scaled by 0.1: 14x smaller). Level 1: within a quarter of level 6's size at a tenth of
 * its time. Noise-like doubles shrink by under 10% and take level 1 thirty times longer than a
 * quantised array (8 ms for 128 KB on the dev VM), so a probe of the first 4 KB decides: if it
 * does not shrink by a tenth, the array is stored (deflate level 0, which the same inflate reads).
 *
 * Timestamps are ascending, so they are stored as differences (coding DELTA): a 1 Hz series is the
 * same 8 bytes over and over. Differences are kept only if adding them back gives every value
 * exactly (always so for integer milliseconds; not always for fractional ones), else coding RAW.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";

const RAW = 0;
const DELTA = 1;
const HEADER_BYTES = 1;
const PROBE_BYTES = 4096;
const WORTHWHILE = 0.9;

/** Packs values as Float64; `delta` stores differences when they restore exactly. */
export function packFloat64(values: ArrayLike<number>, delta = false): string {
  const n = values.length;
  const coding = delta && restoresFromDeltas(values) ? DELTA : RAW;
  const bytes = new Uint8Array(HEADER_BYTES + 8 * n);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, coding);
  let previous = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i] as number;
    view.setFloat64(HEADER_BYTES + 8 * i, coding === DELTA ? x - previous : x, true);
    previous = x;
  }
  return deflate(bytes).toString("base64");
}

function deflate(bytes: Uint8Array): Buffer {
  if (bytes.length > PROBE_BYTES) {
    const probe = deflateRawSync(bytes.subarray(0, PROBE_BYTES), { level: 1 });
    if (probe.length > WORTHWHILE * PROBE_BYTES) {
      return deflateRawSync(bytes, { level: 0 });
    }
  }
  return deflateRawSync(bytes, { level: 1 });
}

/**
 * Unpacks packFloat64 output holding at most maxValues values (the inflated size is bounded, so a
 * corrupt or hostile file cannot make it allocate more). Throws RangeError on anything else.
 */
export function unpackFloat64(text: string, maxValues: number): Float64Array {
  const packed = Buffer.from(text, "base64");
  // Buffer.from skips characters outside base64; re-encoding catches them (a regex is far slower).
  if (packed.toString("base64") !== text) {
    throw new RangeError("packed array is not base64");
  }
  let bytes: Buffer;
  try {
    bytes = inflateRawSync(packed, { maxOutputLength: HEADER_BYTES + 8 * maxValues });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RangeError(`packed array does not inflate within ${maxValues} values: ${reason}`);
  }
  const coding = bytes[0];
  if ((coding !== RAW && coding !== DELTA) || (bytes.length - HEADER_BYTES) % 8 !== 0) {
    throw new RangeError("packed array has an unknown coding or a partial value");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array((bytes.length - HEADER_BYTES) / 8);
  let previous = 0;
  for (let i = 0; i < out.length; i++) {
    const x = view.getFloat64(HEADER_BYTES + 8 * i, true);
    previous = coding === DELTA ? previous + x : x;
    out[i] = previous;
  }
  return out;
}

/** Throws RangeError unless every value is finite (non-finite values never enter a model's state). */
export function requireFinite(values: Float64Array, what: string): void {
  for (const x of values) {
    if (!Number.isFinite(x)) {
      throw new RangeError(`${what} holds a non-finite value`);
    }
  }
}

function restoresFromDeltas(values: ArrayLike<number>): boolean {
  let previous = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    // Object.is, not ===: -0 must come back as -0.
    if (!Object.is(previous + (x - previous), x)) {
      return false;
    }
    previous = x;
  }
  return true;
}
