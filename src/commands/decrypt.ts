/**
 * `edgewarden decrypt --key-file F` (issue #3; input and output in docs/protocol.md, "The decrypt
 * command"): JSON lines {"topic": ..., "payload": <the exact MQTT payload>} on stdin, one opened
 * record per JSON line on stdout, in input order. A line that does not open is reported on stderr
 * as `line N: <reason>: <message>` and the rest still run; any such line makes the exit code 3.
 */
import type { Command } from "commander";
import {
  EnvelopeError,
  type EnvelopeMessage,
  type EnvelopeRejection,
  openEnvelope,
} from "../crypto/envelope/index.js";
import { KeyFileError, type KeyRing, loadKeyRing } from "../crypto/keys/index.js";
import { ExitCode } from "./exitCodes.js";
import type { CommandRunner } from "./program.js";

/** The config's crypto.keyFile default: where `keys generate` puts the gateway's key file. */
const DEFAULT_KEY_FILE = "/etc/edgewarden/gateway.key";
/**
 * Longest input line read. An envelope is at most 1 MiB of text (MAX_PAYLOAD_CHARS), a topic at
 * most 64 KiB; 2 MiB covers both with their JSON escapes, and bounds memory for junk without a newline.
 */
const MAX_LINE_BYTES = 2 * 1024 * 1024;

interface DecryptOptions {
  keyFile: string;
}

export function registerDecrypt(program: Command, run: CommandRunner): void {
  program
    .command("decrypt")
    .description("open envelopes (JSON lines of topic and payload on stdin) into plaintext JSON lines")
    .option(
      "--key-file <file>",
      "gateway key file, or an exported device key file (opens that device's records only)",
      DEFAULT_KEY_FILE,
    )
    .addHelpText(
      "after",
      [
        "",
        'Input: one JSON object per line, {"topic": "<MQTT topic>", "payload": "<the exact MQTT payload>"}; blank lines are skipped.',
        'Output: one JSON object per opened record, {"topic", "gateway", "device", "keyId", "seq", "ts", "record"}',
        '(or "plaintext" in base64 when the record is not JSON). Rejected lines go to stderr as "line N: <reason>: <message>".',
        "",
        "Exit codes: 0 all opened, 2 bad key file or usage, 3 any line rejected.",
      ].join("\n"),
    )
    .action((options: DecryptOptions) => run(() => decrypt(options)));
}

async function decrypt(options: DecryptOptions): Promise<number> {
  let keys: KeyRing;
  try {
    keys = await loadKeyRing(options.keyFile);
  } catch (error) {
    if (error instanceof KeyFileError) {
      process.stderr.write(`edgewarden decrypt: ${error.message}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
  let rejected = 0;
  for await (const line of inputLines(process.stdin, MAX_LINE_BYTES)) {
    const outcome = openLine(keys, line);
    if (outcome === undefined) {
      continue;
    }
    if (outcome.ok) {
      await writeOut(`${outcome.output}\n`);
    } else {
      rejected++;
      process.stderr.write(`line ${line.number}: ${outcome.reason}: ${outcome.message}\n`);
    }
  }
  return rejected === 0 ? ExitCode.ok : ExitCode.tamper;
}

/** A physical input line (1-based number), or the note that it was longer than the cap. */
type InputLine =
  | { readonly number: number; readonly bytes: Buffer }
  | { readonly number: number; readonly overlong: true };

/** Why a line was rejected: an envelope's reason, or "bad-line" when the line itself is not {topic, payload}. */
type LineOutcome =
  | { readonly ok: true; readonly output: string }
  | { readonly ok: false; readonly reason: EnvelopeRejection | "bad-line"; readonly message: string };

function openLine(keys: KeyRing, line: InputLine): LineOutcome | undefined {
  if ("overlong" in line) {
    return { ok: false, reason: "bad-line", message: `longer than ${MAX_LINE_BYTES} bytes; skipped` };
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(line.bytes);
  } catch {
    return { ok: false, reason: "bad-line", message: "not UTF-8 text" };
  }
  if (text.trim() === "") {
    return undefined;
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: "bad-line", message: `not JSON (${why})` };
  }
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      ok: false,
      reason: "bad-line",
      message: 'expected a JSON object {"topic": ..., "payload": ...}',
    };
  }
  const { topic, payload } = input as Record<string, unknown>;
  if (typeof topic !== "string" || typeof payload !== "string") {
    return {
      ok: false,
      reason: "bad-line",
      message: `"topic" and "payload" must both be text (got ${typeof topic} and ${typeof payload})`,
    };
  }
  try {
    return { ok: true, output: openedRecordLine(openEnvelope(keys, topic, payload)) };
  } catch (error) {
    if (error instanceof EnvelopeError) {
      return { ok: false, reason: error.reason, message: error.message };
    }
    throw error;
  }
}

/**
 * One output line. A JSON record is copied as its own text rather than re-serialised, so that
 * numbers beyond 2^53 are not rounded on the way (FAULTS 8.7); raw CR and LF can only be
 * whitespace between JSON tokens (inside strings they must be escaped), so turning them into
 * spaces keeps it one line and the same value.
 */
function openedRecordLine(message: EnvelopeMessage): string {
  const { header } = message;
  const head = JSON.stringify({
    topic: message.topic,
    gateway: header.gateway,
    device: header.device,
    keyId: header.keyId,
    seq: header.seq.toString(10),
    ts: header.ts,
  }).slice(0, -1);
  const recordText = jsonText(message.plaintext);
  return recordText === undefined
    ? `${head},"plaintext":${JSON.stringify(Buffer.from(message.plaintext).toString("base64"))}}`
    : `${head},"record":${recordText.replace(/[\r\n]/g, " ").trim()}}`;
}

/** The plaintext as JSON text, or undefined when it is not UTF-8 or not JSON. */
function jsonText(plaintext: Uint8Array): string | undefined {
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(plaintext);
    JSON.parse(text);
    return text;
  } catch {
    return undefined;
  }
}

/**
 * Splits a byte stream into lines at LF (a CR before it is dropped), holding at most `maxBytes` of
 * one line: the rest of a longer line is discarded and reported, so junk without newlines cannot
 * grow memory (STYLE.md: bound every parser).
 */
async function* inputLines(
  input: AsyncIterable<Uint8Array | string>,
  maxBytes: number,
): AsyncGenerator<InputLine> {
  let pieces: Buffer[] = [];
  let length = 0;
  let overlong = false;
  let number = 0;
  const finish = (): InputLine => {
    number++;
    const whole = Buffer.concat(pieces, length);
    const bytes = whole.at(-1) === 0x0d ? whole.subarray(0, -1) : whole;
    const line: InputLine =
      overlong || bytes.length > maxBytes ? { number, overlong: true } : { number, bytes };
    pieces = [];
    length = 0;
    overlong = false;
    return line;
  };
  const take = (piece: Buffer) => {
    if (overlong) {
      return;
    }
    // One byte of slack for the CR of a CRLF line of exactly maxBytes.
    if (length + piece.length > maxBytes + 1) {
      overlong = true;
      pieces = [];
      length = 0;
      return;
    }
    pieces.push(piece);
    length += piece.length;
  };
  for await (const chunk of input) {
    const bytes =
      typeof chunk === "string"
        ? Buffer.from(chunk, "utf8")
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let newline = bytes.indexOf(0x0a, start); newline !== -1; newline = bytes.indexOf(0x0a, start)) {
      take(bytes.subarray(start, newline));
      yield finish();
      start = newline + 1;
    }
    take(bytes.subarray(start));
  }
  if (length > 0 || overlong) {
    yield finish();
  }
}

/** Writes to stdout and waits when the pipe is full, so a slow reader bounds our memory. */
async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) {
    await new Promise<void>((resolve) => process.stdout.once("drain", resolve));
  }
}
