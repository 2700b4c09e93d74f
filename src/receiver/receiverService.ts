/**
 * The receiver, composed (issue #7 item 2): MQTT intake -> batches -> verification core -> store
 * -> PUBACK, plus the counters and the log lines people read. start() opens the store first
 * (migrations, or reading a JSONL file back), then subscribes; stop() takes no more messages,
 * stores and acknowledges the batch under way and the one waiting, disconnects (the broker keeps
 * the session and everything not acknowledged), closes the store and logs the totals.
 *
 * Chain checks: with JSON lines one receiver sees every message, so the core checks each
 * gateway's chain in memory, resuming from what the file holds; with PostgreSQL the receivers of
 * a group each see part of it, so the core runs in "store" mode and the store's chain auditor
 * checks continuity over what all of them stored.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { ReceiverFiles } from "./config/receiverFiles.js";
import type { ReceiverConfig } from "./config/receiverSchema.js";
import { IntakeBatcher } from "./intakeBatcher.js";
import { JsonlStore } from "./jsonlStore.js";
import { type IntakeMessage, type IntakeSettings, MqttIntake } from "./mqttIntake.js";
import type { ReceiverOutcome } from "./outcomes.js";
import { RateLimitedLog } from "./rateLimitedLog.js";
import { type ChainMode, ReceiverCore, type ReceiverCoreOptions } from "./receiverCore.js";
import type { ReceiverCounters } from "./receiverCounters.js";
import { ReceiverKeys } from "./receiverKeys.js";
import { MemoryReceiverState } from "./receiverState.js";
import { PgRecordStore } from "./store/pgStore.js";
import type { RecordStore } from "./store/recordStore.js";

/** Hard bound on messages held unacknowledged (waiting for or in a store write), whatever the broker sends. */
export const MAX_HELD_MESSAGES = 100_000;

/** Counted by the service, beside the core's counters. */
export interface ServiceCounters {
  batches: number;
  /** Records the store wrote (accepted by the core and new to the store). */
  stored: number;
  /** Records the store already held (after a restart, or stored by another receiver of the group). */
  storeDuplicates: number;
  /** Gap and tamper events the store's chain auditor stored (PostgreSQL). */
  auditEvents: number;
  /** Messages taken past Receive Maximum + a batch (a broker that does not honour it). */
  overReceiveMaximum: number;
  /** Messages refused past MAX_HELD_MESSAGES: not acked, sent again after the reconnect that follows. */
  shed: number;
}

export interface ReceiverServiceOptions {
  readonly config: ReceiverConfig;
  readonly files: ReceiverFiles;
  readonly logger: Logger;
  readonly clock: Clock;
  /** A fatal error after start (a store write failed): the command stops and exits 1. */
  readonly onFatal: (error: unknown) => void;
}

export class ReceiverService {
  readonly #options: ReceiverServiceOptions;
  readonly #logger: Logger;
  readonly #events: RateLimitedLog;
  readonly counters: ServiceCounters = {
    batches: 0,
    stored: 0,
    storeDuplicates: 0,
    auditEvents: 0,
    overReceiveMaximum: 0,
    shed: 0,
  };
  #store: RecordStore | undefined;
  #core: ReceiverCore | undefined;
  #intake: MqttIntake | undefined;
  #batcher: IntakeBatcher | undefined;
  #countersTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ReceiverServiceOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: "receiver" });
    this.#events = new RateLimitedLog(this.#logger, options.clock, options.config.log.rejectionsPerMinute);
  }

  /** The core's counters (zeros before start). */
  get coreCounters(): ReceiverCounters | undefined {
    return this.#core?.counters;
  }

  async start(): Promise<void> {
    const { config, files, clock } = this.#options;
    const chain: ChainMode = config.store.postgres !== undefined ? "store" : "memory";
    const store = this.#createStore();
    this.#store = store;
    await store.start();
    const state = new MemoryReceiverState();
    if (store instanceof JsonlStore) {
      this.#resumeFrom(store, state);
    }
    const coreOptions: ReceiverCoreOptions = {
      topics: config.topics,
      keys: new ReceiverKeys(files.keyFiles),
      state,
      chain,
    };
    this.#core = new ReceiverCore(coreOptions);
    const mqtt = config.mqtt;
    const batcher = new IntakeBatcher(
      {
        maxMessages: config.batch.maxMessages,
        maxDelayMs: config.batch.maxDelay,
        expected: mqtt.receiveMaximum + config.batch.maxMessages,
        capacity: Math.max(MAX_HELD_MESSAGES, mqtt.receiveMaximum + config.batch.maxMessages),
      },
      clock,
      (batch) => this.#storeBatch(batch),
      {
        onError: (error) => this.#options.onFatal(error),
        onOverExpected: (held) =>
          this.#logger.warn(
            { held, receiveMaximum: mqtt.receiveMaximum },
            "receiver: the broker sent more unacknowledged messages than Receive Maximum (mosquitto 2.0 does when a session resumes); holding them",
          ),
        onOverflow: () => {
          this.#logger.error(
            { capacity: MAX_HELD_MESSAGES },
            "receiver: too many unacknowledged messages held; reconnecting so that the broker sends the rest again",
          );
          this.#intake?.reconnect();
        },
      },
    );
    this.#batcher = batcher;
    this.#intake = new MqttIntake(intakeSettings(config), files.mqtt, {
      clock,
      logger: this.#options.logger,
      // A message not taken (stopping, or over capacity: counted) is not acked: the broker keeps it.
      onMessage: (message) => batcher.add(message),
    });
    await this.#intake.start();
    this.#countersTimer = setInterval(
      () => this.#logCounters("receiver: counters"),
      config.log.countersInterval,
    );
    this.#countersTimer.unref();
    this.#logger.info(
      { store: config.store.postgres !== undefined ? "postgres" : "jsonl", chain },
      "receiver: started",
    );
  }

  /** Drains and acks what it holds (unless `fatal`: then nothing more is acked), disconnects, closes the store. */
  async stop(options: { readonly fatal?: boolean } = {}): Promise<void> {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    clearInterval(this.#countersTimer);
    const problems: unknown[] = [];
    const step = async (what: string, run: () => Promise<void> | void) => {
      try {
        await run();
      } catch (error) {
        problems.push(error);
        this.#logger.error({ err: error }, `receiver: ${what} failed while stopping`);
      }
    };
    if (options.fatal === true) {
      this.#batcher?.discard();
    } else {
      await step("storing the last batch", () => this.#batcher?.drain());
    }
    await step("disconnecting", () => this.#intake?.stop());
    await step("closing the store", () => this.#store?.stop());
    this.#events.flush();
    this.#logCounters("receiver: stopped");
    if (problems.length > 0) {
      throw new AggregateError(problems, "the receiver did not stop cleanly");
    }
  }

  #createStore(): RecordStore {
    const { config, files } = this.#options;
    const postgres = config.store.postgres;
    if (postgres !== undefined) {
      return new PgRecordStore({
        url: withPassword(postgres.url, files.databasePassword),
        schema: postgres.schema,
        ...(postgres.poolSize === undefined ? {} : { poolSize: postgres.poolSize }),
        auditIntervalMs: postgres.auditInterval,
        gapGraceMs: postgres.gapGrace,
        logger: this.#logger,
        clock: this.#options.clock,
        onAuditEvent: (event) => {
          this.counters.auditEvents++;
          this.#events.outcome(event, "audit");
        },
      });
    }
    const jsonl = config.store.jsonl;
    if (jsonl === undefined) {
      throw new Error("unreachable: the schema requires store.postgres or store.jsonl");
    }
    return new JsonlStore({ path: jsonl.path });
  }

  /** Seeds the core's chain state with what the JSONL file holds (jsonlRestore.ts). */
  #resumeFrom(store: JsonlStore, state: MemoryReceiverState): void {
    const restored = store.restored;
    if (restored === undefined) {
      return;
    }
    for (const [gateway, { head, linksAbove }] of restored.gateways) {
      state.setHead(gateway, head);
      for (const link of linksAbove) {
        state.markStored(gateway, link);
      }
    }
    if (restored.lines > 0 || restored.tornBytes > 0) {
      this.#logger.info(
        {
          lines: restored.lines,
          unreadable: restored.unreadable,
          tornBytes: restored.tornBytes,
          gateways: Object.fromEntries([...restored.gateways].map(([gw, r]) => [gw, r.head.seq])),
        },
        "receiver: resuming after what the JSONL file holds",
      );
    }
    if (restored.tornBytes > 0) {
      this.#logger.warn(
        { tornBytes: restored.tornBytes },
        "receiver: cut an unfinished last line off the JSONL file (its message was not acknowledged; the broker sends it again)",
      );
    }
  }

  async #storeBatch(batch: readonly IntakeMessage[]): Promise<void> {
    const core = this.#core;
    const store = this.#store;
    if (core === undefined || store === undefined) {
      throw new Error("the receiver is not started");
    }
    const outcomes: ReceiverOutcome[] = [];
    for (const message of batch) {
      outcomes.push(
        ...core.receive({ topic: message.topic, payload: message.payload, receivedAt: message.receivedAt }),
      );
    }
    const found = await store.write(outcomes);
    for (const message of batch) {
      message.ack();
    }
    this.counters.batches++;
    let duplicates = 0;
    for (const outcome of found) {
      if (outcome.type === "duplicate") {
        duplicates++;
      } else {
        this.#events.outcome(outcome, "store");
      }
    }
    this.counters.storeDuplicates += duplicates;
    this.counters.stored += outcomes.filter((o) => o.type === "accepted").length - duplicates;
    for (const outcome of outcomes) {
      this.#events.outcome(outcome, "core");
    }
  }

  #logCounters(message: string): void {
    this.counters.shed = this.#batcher?.shed ?? 0;
    this.counters.overReceiveMaximum = this.#batcher?.overExpected ?? 0;
    const intake = this.#intake?.status();
    this.#logger.info(
      {
        counters: { ...this.#core?.counters, ...this.counters },
        connected: intake?.connected ?? false,
        connections: intake?.connections ?? 0,
        waiting: this.#batcher?.waiting ?? 0,
      },
      message,
    );
  }
}

export function intakeSettings(config: ReceiverConfig): IntakeSettings {
  const mqtt = config.mqtt;
  const filter = mqtt.subscribe ?? `${config.topics.prefix}/#`;
  return {
    url: mqtt.url,
    clientId: mqtt.clientId,
    username: mqtt.username,
    tls: mqtt.tls,
    keepaliveMs: mqtt.keepalive,
    connectTimeoutMs: mqtt.connectTimeout,
    reconnect: { initialDelayMs: mqtt.reconnect.initialDelay, maxDelayMs: mqtt.reconnect.maxDelay },
    subscription: mqtt.group === undefined ? filter : `$share/${mqtt.group}/${filter}`,
    sessionExpirySeconds: Math.floor(mqtt.sessionExpiry / 1000),
    receiveMaximum: mqtt.receiveMaximum,
  };
}

/** The database URL with the password from its file (the config's URL never holds one). */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) {
    return url;
  }
  const parsed = new URL(url);
  parsed.password = password;
  return parsed.toString();
}
