/**
 * MQTT topic names (issue #5; docs/protocol.md §1): records go to `uplink.topics.template` with
 * {prefix} {site} {gateway} {device} {stream} filled in, the status topic is always
 * `{prefix}/{site}/{gateway}/status`. Rendered names are cached per (device, stream): the forwarder
 * asks for one per record, and a gateway has a handful of devices. The cache is bounded anyway (a
 * misbehaving source could invent device names), and cleared whole when full: a miss costs one
 * render, so a smarter eviction would buy nothing.
 */
import { type LedgerKind, NO_DEVICE, streamOf } from "../ledger/ledgerEntry.js";

export type Stream = ReturnType<typeof streamOf>;

export interface TopicSettings {
  readonly prefix: string;
  readonly site: string;
  readonly gateway: string;
  /** With {prefix} {site} {gateway} {device} {stream}; validated by the config schema. */
  readonly template: string;
}

/** A topic name and its UTF-8 length, which the packet size check needs for every record. */
export interface RenderedTopic {
  readonly name: string;
  readonly bytes: number;
}

export const TOPIC_CACHE_LIMIT = 1024;

export class TopicRenderer {
  readonly statusTopic: string;
  readonly #settings: TopicSettings;
  readonly #cache = new Map<string, RenderedTopic>();
  readonly #limit: number;

  constructor(settings: TopicSettings, cacheLimit = TOPIC_CACHE_LIMIT) {
    this.#settings = settings;
    this.#limit = cacheLimit;
    this.statusTopic = `${settings.prefix}/${settings.site}/${settings.gateway}/status`;
  }

  /** The topic of a record of `device` (NO_DEVICE for none) on `stream`. */
  topic(device: string, stream: Stream): RenderedTopic {
    const key = `${device}\u0000${stream}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      return cached;
    }
    if (this.#cache.size >= this.#limit) {
      this.#cache.clear();
    }
    const name = renderTopic(this.#settings, device, stream);
    const rendered = { name, bytes: Buffer.byteLength(name, "utf8") };
    this.#cache.set(key, rendered);
    return rendered;
  }

  /** The topic of a ledger entry (its device, the stream of its kind). */
  topicOf(entry: { readonly device: string; readonly kind: LedgerKind }): RenderedTopic {
    return this.topic(entry.device === "" ? NO_DEVICE : entry.device, streamOf(entry.kind));
  }

  /** How many rendered topics are cached (for tests of the bound). */
  get cached(): number {
    return this.#cache.size;
  }
}

/** One pass over the template: a placeholder's value is never scanned for placeholders again. */
export function renderTopic(settings: TopicSettings, device: string, stream: Stream): string {
  const values: Readonly<Record<string, string>> = {
    prefix: settings.prefix,
    site: settings.site,
    gateway: settings.gateway,
    device,
    stream,
  };
  return settings.template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}
