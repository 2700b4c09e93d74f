/**
 * PostgreSQL for the store tests: the real server at 127.0.0.1:5432, database `test`, each test
 * file in its own schema (dropped at the end), and store-mode receiver cores fed by a FakeGateway
 * (real sealed envelopes), so that what reaches the store is exactly what the receiver would give it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { ReceiverCore, ReceiverKeys, type ReceiverOutcome } from "../../../src/receiver/index.js";
import { PgRecordStore, type PgRecordStoreOptions } from "../../../src/receiver/store/pgStore.js";
import { FakeClock } from "../../helpers/memoryLogger.js";
import { type FakeGateway, GATEWAY, type Message, TOPICS } from "../gatewayFixture.js";

export const PG_URL = process.env.EDGEWARDEN_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A schema name no other test file (or run) uses. */
export function uniqueSchema(label: string): string {
  return `ew_test_${label}_${randomBytes(4).toString("hex")}`;
}

export class PgTestDb {
  readonly schema: string;
  readonly clock = new FakeClock();
  readonly #client = new pg.Client({ connectionString: PG_URL });
  readonly #stores: PgRecordStore[] = [];

  constructor(label: string) {
    this.schema = uniqueSchema(label);
  }

  async start(): Promise<void> {
    await this.#client.connect();
  }

  /** A store on this schema; stopped by `stop()`. No audit timer unless asked for. */
  store(options: Partial<PgRecordStoreOptions> = {}): PgRecordStore {
    const store = new PgRecordStore({
      url: PG_URL,
      schema: this.schema,
      auditIntervalMs: 0,
      gapGraceMs: 30_000,
      clock: this.clock,
      ...options,
    });
    this.#stores.push(store);
    return store;
  }

  async query<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
    const result = await this.#client.query<R>(sql.replaceAll("$S", `"${this.schema}"`), values);
    return result.rows;
  }

  async stop(): Promise<void> {
    for (const store of this.#stores) {
      await store.stop();
    }
    await this.#client.query(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`);
    await this.#client.end();
  }
}

/** A receiver in store mode holding the gateway key file of `gateway`. */
export function storeModeReceiver(gateway: FakeGateway, gatewayId = GATEWAY): ReceiverCore {
  return new ReceiverCore({
    topics: TOPICS,
    keys: new ReceiverKeys([{ file: gateway.keyFile, source: "gateway.key", gateway: gatewayId }]),
    chain: "store",
  });
}

/** The outcomes of these messages through `core`, each received at `receivedAt`. */
export function receiveAll(
  core: ReceiverCore,
  messages: readonly Message[],
  receivedAt: number,
): ReceiverOutcome[] {
  return messages.flatMap((message) => core.receive({ ...message, receivedAt }));
}

export const ofType = <T extends ReceiverOutcome["type"]>(outcomes: readonly ReceiverOutcome[], type: T) =>
  outcomes.filter((o): o is Extract<ReceiverOutcome, { type: T }> => o.type === type);
