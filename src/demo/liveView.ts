/**
 * What the demo shows (issue #7 item 4: "a live terminal view (devices with their latest values,
 * backlog, chain head, anomalies as they are raised, decrypted on the receiver side) ... with a
 * plain-log mode when stdout is not a TTY").
 *
 *  - ScreenView (a TTY): redraws one screen twice a second from the receiver's tally and the
 *    daemon's last GET /status: the gateway's chain head and backlog, the receiver's counts, each
 *    device's latest values as the receiver decrypted them, the last anomaly records.
 *  - PlainView (a pipe, a file, CI): one line per event, no ANSI: "reading gw/device tag=value
 *    ...", "anomaly TYPE device ...", "event ...", "checkpoint ...", a status line every 10 s.
 *
 * Both end with the same summary lines.
 */
import type { StatusDocument } from "../observability/statusReport.js";
import type { ReceiverOutcome } from "../receiver/index.js";
import { DemoTally, type DeviceValues } from "./demoTally.js";

export interface DemoInfo {
  readonly gateway: string;
  readonly site: string;
  readonly brokerUrl: string;
  readonly modbusPort: number;
  readonly daemonPid: number;
  readonly workspace: string;
}

export interface LiveView {
  readonly tally: DemoTally;
  /** A line from the demo itself (start-up steps, the fault, stopping). */
  note(text: string): void;
  outcome(outcome: ReceiverOutcome): void;
  status(doc: StatusDocument): void;
  /** The screen's fault line ("overload on mill-drive in 12 s"); the plain log has none. */
  fault(text: string): void;
  /** Everything runs: start drawing. */
  begin(info: DemoInfo): void;
  /** Stops drawing and prints the summary. */
  finish(summary: readonly string[]): void;
}

const PLAIN_STATUS_EVERY_MS = 10_000;
const SCREEN_REDRAW_MS = 500;
const NOTES_SHOWN = 4;

export function statusLine(doc: StatusDocument): string {
  const { ledger, uplink } = doc;
  const head =
    ledger.headSeq === null
      ? `ledger ${ledger.health}`
      : `ledger ${ledger.health}, chain head seq ${ledger.headSeq}${ledger.headHash === null ? "" : ` (${ledger.headHash.slice(0, 12)}…)`}, backlog ${ledger.backlogRecords ?? "?"}`;
  const link =
    uplink === null
      ? "uplink off"
      : `uplink ${uplink.connected ? "connected" : "DOWN"}, ${uplink.publishRate.toFixed(1)} records/s`;
  return `${head}; ${link}`;
}

export class PlainView implements LiveView {
  readonly tally = new DemoTally();
  #lastStatusAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly write: (text: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  note(text: string): void {
    this.write(`demo: ${text}\n`);
  }

  outcome(outcome: ReceiverOutcome): void {
    const line = this.tally.add(outcome);
    if (line !== undefined) {
      this.write(`${line}\n`);
    }
  }

  status(doc: StatusDocument): void {
    const now = this.now();
    if (now - this.#lastStatusAt >= PLAIN_STATUS_EVERY_MS) {
      this.#lastStatusAt = now;
      this.write(`status ${doc.gateway.id}: ${statusLine(doc)}\n`);
    }
  }

  fault(_text: string): void {}

  begin(info: DemoInfo): void {
    this.note(
      `running: gateway ${info.gateway} (daemon pid ${info.daemonPid}), broker ${info.brokerUrl}, simulator 127.0.0.1:${info.modbusPort}`,
    );
  }

  finish(summary: readonly string[]): void {
    for (const line of summary) {
      this.write(`summary: ${line}\n`);
    }
  }
}

export class ScreenView implements LiveView {
  readonly tally = new DemoTally();
  readonly #notes: string[] = [];
  #info: DemoInfo | undefined;
  #doc: StatusDocument | undefined;
  #fault = "none yet";
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly now: () => number = () => performance.now(),
  ) {}

  note(text: string): void {
    if (this.#timer === undefined) {
      // Before the screen takes over (start-up) and after it (stopping): plain lines.
      this.out.write(`demo: ${text}\n`);
      return;
    }
    this.#notes.push(text);
    if (this.#notes.length > NOTES_SHOWN) {
      this.#notes.shift();
    }
  }

  outcome(outcome: ReceiverOutcome): void {
    this.tally.add(outcome);
  }

  status(doc: StatusDocument): void {
    this.#doc = doc;
  }

  fault(text: string): void {
    this.#fault = text;
  }

  begin(info: DemoInfo): void {
    this.#info = info;
    this.#startedAt = this.now();
    this.out.write("\x1b[?25l\x1b[2J");
    this.#timer = setInterval(() => this.#draw(), SCREEN_REDRAW_MS);
    this.#draw();
  }

  finish(summary: readonly string[]): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#draw();
      this.out.write("\x1b[?25h\n");
    }
    for (const line of summary) {
      this.out.write(`${line}\n`);
    }
  }

  #draw(): void {
    // A pty that never set its size reports 0 columns.
    const columns = this.out.columns ?? 0;
    const width = columns > 0 ? Math.max(40, columns) : 100;
    const lines = this.#screen(width).map((line) => (line.length > width ? line.slice(0, width) : line));
    this.out.write(`\x1b[H${lines.map((line) => `${line}\x1b[K`).join("\n")}\n\x1b[J`);
  }

  #screen(width: number): string[] {
    const info = this.#info;
    const elapsed = Math.floor((this.now() - this.#startedAt) / 1_000);
    const clock = `${String(Math.floor(elapsed / 60)).padStart(2, "0")}:${String(elapsed % 60).padStart(2, "0")}`;
    const { counts } = this.tally;
    const lines = [
      `edgewarden demo · gateway ${info?.gateway ?? "?"} (${info?.site ?? "?"}) · ${clock} · Ctrl-C stops`,
      `broker ${info?.brokerUrl ?? "?"} · simulator 127.0.0.1:${info?.modbusPort ?? "?"} · daemon pid ${info?.daemonPid ?? "?"} · ${info?.workspace ?? ""}`,
      `fault: ${this.#fault}`,
      "",
      `gateway   ${this.#doc === undefined ? "waiting for GET /status" : statusLine(this.#doc)}`,
      `receiver  ${counts.records} records opened and verified (${counts.readings} readings, ${counts.anomalyRecords} anomaly records, ${counts.checkpoints} checkpoints), ${counts.rejected} rejected, ${counts.gaps} gaps, ${counts.tamper} tampered`,
      "",
      "devices (latest values, decrypted by the receiver)",
    ];
    const now = Date.now();
    // The plant's machines first, the gateway's own health last.
    const devices = [...this.tally.devices].sort(
      ([a], [b]) => Number(a === "gateway") - Number(b === "gateway"),
    );
    for (const [name, device] of devices) {
      lines.push(...deviceLines(name, device, now, width));
    }
    if (this.tally.devices.size === 0) {
      lines.push("  none yet");
    }
    lines.push("", "anomalies (as the receiver opened them)");
    for (const anomaly of [...this.tally.anomalies].reverse()) {
      lines.push(
        `  ${new Date(anomaly.ts).toISOString().slice(11, 19)}  ${anomaly.device}  ${anomaly.type} ${anomaly.severity} ${anomaly.state}  ${anomaly.explanation}`,
      );
    }
    if (this.tally.anomalies.length === 0) {
      lines.push("  none yet");
    }
    lines.push("", ...this.#notes.map((note) => `· ${note}`));
    return lines;
  }
}

/** A device's name and age, then its tags packed into lines of the screen's width. */
function deviceLines(name: string, device: DeviceValues, now: number, width: number): string[] {
  const age = Math.max(0, Math.round((now - device.lastTs) / 1_000));
  const indent = " ".repeat(4);
  const lines = [`  ${name}  (${age} s ago)`];
  let line = indent;
  for (const [tag, value] of device.tags) {
    const cell = `${tag} ${value.text}   `;
    if (line.length + cell.length > width && line !== indent) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += cell;
  }
  if (line !== indent) {
    lines.push(line.trimEnd());
  }
  return lines;
}
