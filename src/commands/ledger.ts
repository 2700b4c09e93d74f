/**
 * `edgewarden ledger verify|tail|stats` (issue #5 item 4; DESIGN.md CLI surface) on a stopped
 * daemon's ledger directory: -d DIR, or the config's storage.dir with -c FILE.
 *
 *   verify  the chain (verifyChain.ts): one JSON summary line; exit 3 on any altered, missing or
 *           reordered record, or a bad checkpoint (MACs checked with --key-file: the gateway key
 *           file, or a checkpoint key file from `keys export --checkpoint-key`, protocol.md §8.5)
 *   tail    the last -n entries as stored, one JSON line each, in seq order
 *   stats   records, seqs, bytes, the acked cursor, backlog and the oldest unacknowledged entry
 *
 * Exit codes: 0 done (verify: intact), 1 the directory is not an openable ledger (missing, in use
 * by the daemon, unreadable, corrupt beyond reading), 2 usage or a bad key file or config,
 * 3 (verify) tampered.
 */
import type { Command } from "commander";
import { formatIssue } from "../config/configIssue.js";
import { loadConfigFile } from "../config/loadConfig.js";
import { type CheckpointKeySource, KeyFileError, loadCheckpointKeys } from "../crypto/keys/index.js";
import { LedgerCorruptError } from "../ledger/ledgerErrors.js";
import {
  asUnopenable,
  checkLedgerDir,
  LedgerUnopenableError,
  openLedgerForInspection,
} from "../ledger/ledgerInspection.js";
import { AFTER_ENTRIES_KEY, entryKey, FIRST_ENTRY_KEY, seqOfEntryKey } from "../ledger/ledgerLayout.js";
import { readLedgerStats } from "../ledger/ledgerStats.js";
import { verifyChain } from "../ledger/verifyChain.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

interface DirOptions {
  dir?: string;
  config?: string;
}

interface VerifyOptions extends DirOptions {
  keyFile?: string;
}

interface TailOptions extends DirOptions {
  lines: string;
}

const DEFAULT_TAIL_LINES = 10;
/** Entries per read while tailing; the output is streamed, so -n can be large. */
const TAIL_BATCH = 1_000;

/** A refusal before any ledger is touched: bad options, config or key file (exit 2). */
class UsageError extends Error {}

export function registerLedger(program: Command, run: CommandRunner): void {
  const ledger = program
    .command("ledger")
    .description("inspect a stopped daemon's ledger: verify the hash chain, show entries, sizes");
  const dirOptions = (command: Command) =>
    command
      .option("-d, --dir <dir>", "ledger directory (storage.dir)")
      .option("-c, --config <file>", "config file whose storage.dir to use when -d is not given");

  dirOptions(
    ledger
      .command("verify")
      .description("walk the hash chain and print a JSON summary with the first bad record"),
  )
    .option(
      "--key-file <file>",
      "gateway key file, or a checkpoint key file (keys export --checkpoint-key): also verify the keyed checkpoints' MACs",
    )
    .addHelpText(
      "after",
      [
        "",
        'Prints {"records","firstSeq","lastSeq","head","ok","firstBad":{"seq","reason"}|null,"checkpoints":{"checked","bad","keyed"}}.',
        "Reasons: missing, seq mismatch, malformed, hash mismatch, broken link, checkpoint malformed,",
        "checkpoint hash mismatch, checkpoint mac mismatch, checkpoint key unknown, unreadable (a damaged",
        "LevelDB table file; firstBad.detail has LevelDB's message).",
        "",
        "Exit codes: 0 intact, 1 not an openable ledger (or in use by the daemon), 2 bad usage, config or key file,",
        "3 altered, missing or reordered records or a bad checkpoint.",
      ].join("\n"),
    )
    .action((options: VerifyOptions) => run(() => ledgerCommand("verify", () => verify(options))));

  dirOptions(ledger.command("tail").description("print the last entries as JSON lines, oldest first"))
    .option("-n, --lines <n>", "how many entries", String(DEFAULT_TAIL_LINES))
    .addHelpText("after", "\nExit codes: 0 done, 1 not an openable ledger, 2 bad usage or config.")
    .action((options: TailOptions) => run(() => ledgerCommand("tail", () => tail(options))));

  dirOptions(
    ledger.command("stats").description("records, bytes, backlog and oldest unacknowledged record, as JSON"),
  )
    .addHelpText(
      "after",
      [
        "",
        'Prints {"records","firstSeq","lastSeq","head","approxBytes","ackedSeq","backlogRecords","oldestUnackedTs"}.',
        "",
        "Exit codes: 0 done, 1 not an openable ledger, 2 bad usage or config.",
      ].join("\n"),
    )
    .action((options: DirOptions) => run(() => ledgerCommand("stats", () => stats(options))));

  ledger.exitOverride();
  for (const command of ledger.commands) {
    command.exitOverride();
  }
}

/** Runs one subcommand: expected failures are one line on stderr with their exit code. */
async function ledgerCommand(name: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const fail = (code: number, message: string) => {
      process.stderr.write(`edgewarden ledger ${name}: ${message}\n`);
      return code;
    };
    if (error instanceof UsageError || error instanceof KeyFileError) {
      return fail(ExitCode.usage, error.message);
    }
    if (error instanceof LedgerUnopenableError) {
      return fail(ExitCode.fatal, error.message);
    }
    if (error instanceof LedgerCorruptError) {
      return fail(
        ExitCode.fatal,
        `${error.message} (run \`edgewarden ledger verify\` for the first bad record)`,
      );
    }
    throw error;
  }
}

/** -d, or the storage.dir of -c's config; neither is a usage error. */
async function ledgerDir(options: DirOptions): Promise<string> {
  if (options.dir !== undefined) {
    return options.dir;
  }
  if (options.config === undefined) {
    throw new UsageError("name the ledger directory with -d DIR, or a config file with -c FILE");
  }
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    throw new UsageError(
      `the config has errors; give -d DIR or fix them:\n${loaded.errors.map(formatIssue).join("\n")}`,
    );
  }
  return loaded.config.storage.dir;
}

async function verify(options: VerifyOptions): Promise<number> {
  const dir = await ledgerDir(options);
  // A device key file is refused by loadCheckpointKeys (KeyFileError, exit 2): it cannot check a MAC.
  let keys: CheckpointKeySource | undefined;
  if (options.keyFile !== undefined) {
    keys = await loadCheckpointKeys(options.keyFile);
  }
  const summary = await verifyChain(dir, keys === undefined ? {} : { keys });
  await writeOut(`${JSON.stringify(summary)}\n`);
  return summary.ok ? ExitCode.ok : ExitCode.tamper;
}

async function tail(options: TailOptions): Promise<number> {
  const wanted = Number(options.lines);
  if (!/^\d+$/.test(options.lines) || !Number.isSafeInteger(wanted)) {
    throw new UsageError(`-n ${JSON.stringify(options.lines)}: expected a whole number of entries`);
  }
  const dir = await ledgerDir(options);
  const db = await openLedgerForInspection(dir);
  try {
    const [lastKey] = await db
      .keys({ gte: FIRST_ENTRY_KEY, lt: AFTER_ENTRIES_KEY, reverse: true, limit: 1 })
      .all();
    const lastSeq = lastKey === undefined ? undefined : seqOfEntryKey(lastKey);
    if (wanted === 0 || lastSeq === undefined) {
      return ExitCode.ok;
    }
    // Seqs are contiguous in a sound ledger, so the last n start at lastSeq - n + 1; streamed
    // forward from there rather than collected backwards, so -n bounds nothing in memory.
    const iterator = db.iterator({
      gte: entryKey(Math.max(1, lastSeq - wanted + 1)),
      lt: AFTER_ENTRIES_KEY,
      values: true,
      keys: false,
    });
    try {
      for (
        let batch = await iterator.nextv(TAIL_BATCH);
        batch.length > 0;
        batch = await iterator.nextv(TAIL_BATCH)
      ) {
        // A stored text with a raw line break (only a damaged one has it) stays one output line.
        await writeOut(`${batch.map(([, text]) => (text ?? "").replace(/[\r\n]/g, " ")).join("\n")}\n`);
      }
    } finally {
      await iterator.close();
    }
    return ExitCode.ok;
  } finally {
    await db.close();
  }
}

async function stats(options: DirOptions): Promise<number> {
  const dir = await ledgerDir(options);
  await checkLedgerDir(dir);
  const found = await readLedgerStats(dir).catch((error: unknown) => {
    const mapped = asUnopenable(dir, error);
    throw mapped instanceof LedgerUnopenableError || mapped instanceof LedgerCorruptError
      ? mapped
      : new LedgerUnopenableError(error instanceof Error ? error.message : String(error), { cause: error });
  });
  const output = {
    records: found.records,
    firstSeq: found.firstSeq,
    lastSeq: found.lastSeq,
    head: found.headHash,
    approxBytes: found.approxBytes,
    ackedSeq: found.ackedSeq,
    backlogRecords: found.backlogRecords,
    oldestUnackedTs: found.oldestUnackedTs,
  };
  await writeOut(`${JSON.stringify(output)}\n`);
  return ExitCode.ok;
}

/** Writes to stdout and waits when the pipe is full, so a slow reader bounds our memory. */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
  }
}
