/**
 * Reading the levels back out of a record topic (issue #7 item 2; docs/protocol.md §1). The
 * receiver knows the gateways' `uplink.topics.template` and prefix; the site, gateway and device
 * levels vary per message. opening does not compare the topic with the header (§6, "What opening
 * does not do"), so the receiver does, and it renders a topic's sibling streams to tell a payload
 * moved from another stream (it opens there) from one that was altered (it opens nowhere).
 */
import type { LedgerKind } from "../ledger/ledgerEntry.js";
import { streamOf } from "../ledger/ledgerEntry.js";

export type Stream = ReturnType<typeof streamOf>;
export const STREAMS: readonly Stream[] = ["data", "alerts", "events", "checkpoints"];

export interface TopicSettings {
  /** `uplink.topics.prefix`, literal (may contain "/"). */
  readonly prefix: string;
  /** `uplink.topics.template`, with {prefix} {site} {gateway} {device}? {stream}. */
  readonly template: string;
}

export interface TopicLevels {
  readonly site: string | undefined;
  readonly gateway: string;
  /** Undefined when the template has no {device} level. */
  readonly device: string | undefined;
  readonly stream: Stream;
}

const PLACEHOLDER = /\{([a-z]+)\}/g;
const LEVEL = "([^/+#]+)";

export class TopicPattern {
  readonly #regex: RegExp;
  readonly #order: readonly string[];
  readonly #settings: TopicSettings;

  constructor(settings: TopicSettings) {
    this.#settings = settings;
    const order: string[] = [];
    let source = "";
    let last = 0;
    for (const match of settings.template.matchAll(PLACEHOLDER)) {
      source += escapeRegex(settings.template.slice(last, match.index));
      const name = match[1] ?? "";
      if (name === "prefix") {
        source += escapeRegex(settings.prefix);
      } else {
        order.push(name);
        source += name === "stream" ? `(${STREAMS.join("|")})` : LEVEL;
      }
      last = match.index + match[0].length;
    }
    source += escapeRegex(settings.template.slice(last));
    if (!order.includes("gateway") || !order.includes("stream")) {
      throw new RangeError(`the topic template ${settings.template} must keep {gateway} and {stream} (§1)`);
    }
    this.#regex = new RegExp(`^${source}$`);
    this.#order = order;
  }

  /** The levels of a record topic, or undefined when the topic does not fit the template. */
  match(topic: string): TopicLevels | undefined {
    const found = this.#regex.exec(topic);
    if (found === null) {
      return undefined;
    }
    const values = new Map<string, string>();
    this.#order.forEach((name, i) => {
      values.set(name, found[i + 1] ?? "");
    });
    return {
      site: values.get("site"),
      gateway: values.get("gateway") ?? "",
      device: values.get("device"),
      stream: (values.get("stream") ?? "data") as Stream,
    };
  }

  /** The topic with the same levels on another stream. */
  render(levels: TopicLevels, stream: Stream): string {
    const values: Readonly<Record<string, string | undefined>> = {
      prefix: this.#settings.prefix,
      site: levels.site,
      gateway: levels.gateway,
      device: levels.device,
      stream,
    };
    return this.#settings.template.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
  }
}

/** Whether an entry of `kind` belongs on `stream` (docs/protocol.md §8.3). */
export function streamFits(kind: LedgerKind, stream: Stream): boolean {
  return streamOf(kind) === stream;
}

/** `text` as a literal inside a RegExp. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
