/**
 * What is in a ledger directory before LevelDB opens it (issue #5 item 3, FAULTS 8.2 corrupted
 * LevelDB). LevelDB is lenient where we must not be: with createIfMissing it opens a directory
 * whose CURRENT is missing as a NEW database (and deletes the old tables as obsolete), and it
 * opens a truncated MANIFEST as the shorter history it still describes (and deletes the tables
 * the lost part listed). Both lose the ledger silently, so both are caught here, before open,
 * while the files are still there for repair. (Measured with classic-level 3: a 30,100-key
 * database kept 100 keys after either open.)
 *
 * The MANIFEST check reads LevelDB's log format (32 KiB blocks of records, each a masked CRC32C,
 * a length and a type) and requires every record to be whole and to match its CRC. A torn last
 * record can also be a power cut during a compaction's MANIFEST write; treating it as corruption
 * then costs a move-aside and a repair that loses nothing.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";

export type LedgerDirState =
  | { readonly kind: "absent" }
  | { readonly kind: "leveldb" }
  | { readonly kind: "corrupt"; readonly reason: string }
  | { readonly kind: "foreign"; readonly reason: string };

/** Files LevelDB writes; LOCK and LOG alone are left by a failed first open and mean nothing. */
const LEVELDB_DATA = /^(MANIFEST-\d+|\d+\.(ldb|sst|log))$/;
const LEVELDB_ANY = /^(CURRENT|LOCK|LOG|LOG\.old|MANIFEST-\d+|\d+\.(ldb|sst|log|dbtmp))$/;

export async function checkLedgerDirectory(dir: string): Promise<LedgerDirState> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) {
      return { kind: "foreign", reason: "the ledger path is not a directory" };
    }
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      return { kind: "absent" };
    }
    throw error;
  }
  if (!names.includes("CURRENT")) {
    if (names.some((name) => LEVELDB_DATA.test(name))) {
      return { kind: "corrupt", reason: "CURRENT is missing while the database's files are there" };
    }
    if (names.every((name) => LEVELDB_ANY.test(name))) {
      return { kind: "absent" };
    }
    return { kind: "foreign", reason: "the directory holds files but no LevelDB database" };
  }
  const current = await readFile(join(dir, "CURRENT"), "latin1");
  const manifest = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (manifest === undefined) {
    return {
      kind: "corrupt",
      reason: `CURRENT does not name a MANIFEST (${JSON.stringify(current.slice(0, 40))})`,
    };
  }
  if (!names.includes(manifest)) {
    return { kind: "corrupt", reason: `CURRENT names ${manifest}, which is missing` };
  }
  const problem = manifestProblem(await readFile(join(dir, manifest)));
  return problem === undefined
    ? { kind: "leveldb" }
    : { kind: "corrupt", reason: `${manifest} is damaged: ${problem}` };
}

const BLOCK_SIZE = 32_768;
const HEADER_SIZE = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

/** Why the MANIFEST (a LevelDB log file) is not a sequence of whole, checksummed records; undefined if it is. */
export function manifestProblem(file: Uint8Array): string | undefined {
  if (file.length === 0) {
    return "it is empty";
  }
  let inFragmented = false;
  let records = 0;
  for (let offset = 0; offset < file.length; ) {
    const leftInBlock = BLOCK_SIZE - (offset % BLOCK_SIZE);
    if (leftInBlock < HEADER_SIZE) {
      offset += leftInBlock; // the block's zero trailer
      continue;
    }
    if (offset + HEADER_SIZE > file.length) {
      return `a record header is cut off at byte ${offset}`;
    }
    const view = new DataView(file.buffer, file.byteOffset + offset, HEADER_SIZE);
    const storedCrc = view.getUint32(0, true);
    const length = view.getUint16(4, true);
    const type = view.getUint8(6);
    if (type === 0 && length === 0 && file.subarray(offset).every((byte) => byte === 0)) {
      break; // preallocated zeros at the end
    }
    if (HEADER_SIZE + length > leftInBlock || offset + HEADER_SIZE + length > file.length) {
      return `the record at byte ${offset} runs past ${offset + HEADER_SIZE + length > file.length ? "the end of the file" : "its block"}`;
    }
    const crcInput = file.subarray(offset + 6, offset + HEADER_SIZE + length);
    if (maskCrc(crc32c(crcInput)) !== storedCrc) {
      return `the record at byte ${offset} fails its CRC`;
    }
    if (type === FULL || type === FIRST) {
      if (inFragmented) {
        return `the record at byte ${offset} starts before the previous one ended`;
      }
      inFragmented = type === FIRST;
    } else if (type === MIDDLE || type === LAST) {
      if (!inFragmented) {
        return `the record at byte ${offset} continues nothing`;
      }
      inFragmented = type === MIDDLE;
    } else {
      return `the record at byte ${offset} has unknown type ${type}`;
    }
    records++;
    offset += HEADER_SIZE + length;
  }
  if (inFragmented) {
    return "its last record is cut off";
  }
  return records === 0 ? "it holds no record" : undefined;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as LevelDB's crc32c::Value. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** LevelDB stores CRCs masked (crc32c::Mask), so a CRC over data holding CRCs stays useful. */
function maskCrc(crc: number): number {
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
