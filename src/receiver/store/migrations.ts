/**
 * The receiver's PostgreSQL schema, as versioned migrations (issue #7 item 2: "tables for gateways,
 * samples, anomalies, events and gaps created by a versioned migration at start"). A migration is
 * never edited once released: a change is a new version. Every table lives in one configurable
 * schema (default `edgewarden`), named here as `$S`, which pgMigrator replaces with the quoted name.
 *
 * `chain` is the dedup key and what the chain auditor walks: one row per (gateway, seq) stored,
 * with the link (prev, hash) and the envelope's nonce (a replayed envelope repeats it, a resend
 * does not). Hashes are bytea (32 bytes, half the text); the typed tables hold what people query.
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL with `$S` standing for the quoted schema name. */
  readonly sql: string;
}

const V1_TABLES = `
CREATE TABLE $S.gateways (
  id            text PRIMARY KEY,
  site          text,
  first_seen    timestamptz NOT NULL,
  last_seen     timestamptz NOT NULL,
  -- The chain auditor's cursor: every seq up to audited_seq was walked (stored, lost or an open gap).
  audited_seq   bigint NOT NULL DEFAULT 0,
  -- The hash of entry audited_seq; NULL when unknown (after a gap) or before the first entry.
  audited_hash  bytea,
  last_health   jsonb
);

CREATE TABLE $S.chain (
  gateway      text NOT NULL,
  seq          bigint NOT NULL,
  kind         text NOT NULL,
  device       text NOT NULL,
  prev         bytea NOT NULL,
  hash         bytea NOT NULL,
  nonce        text NOT NULL,
  received_at  timestamptz NOT NULL,
  PRIMARY KEY (gateway, seq)
);

CREATE TABLE $S.samples (
  gateway       text NOT NULL,
  seq           bigint NOT NULL,
  device        text NOT NULL,
  grp           text,
  ts            timestamptz NOT NULL,
  clock_synced  boolean NOT NULL,
  "values"      jsonb NOT NULL,
  PRIMARY KEY (gateway, seq)
);
CREATE INDEX samples_device_ts ON $S.samples (device, ts);

CREATE TABLE $S.anomalies (
  gateway       text NOT NULL,
  seq           bigint NOT NULL,
  device        text NOT NULL,
  ts            timestamptz NOT NULL,
  episode       text NOT NULL,
  type          text NOT NULL,
  severity      text NOT NULL,
  state         text NOT NULL CHECK (state IN ('raised', 'escalated', 'ended')),
  detector      text NOT NULL,
  score         double precision NOT NULL,
  started_ts    timestamptz NOT NULL,
  ended_ts      timestamptz,
  clock_synced  boolean NOT NULL,
  body          jsonb NOT NULL,
  PRIMARY KEY (gateway, seq)
);
CREATE INDEX anomalies_device_ts ON $S.anomalies (device, ts);
CREATE INDEX anomalies_episode ON $S.anomalies (episode);

CREATE TABLE $S.checkpoints (
  gateway  text NOT NULL,
  seq      bigint NOT NULL,
  of_seq   bigint NOT NULL,
  of_hash  bytea NOT NULL,
  kid      text NOT NULL,
  mac      text NOT NULL,
  ts       timestamptz NOT NULL,
  PRIMARY KEY (gateway, seq)
);

-- Gateway entries of kind event, gap and deadletter (source 'gateway', seq set), and what the
-- receiver found itself (source 'receiver': tampering, seq the entry concerned or NULL).
CREATE TABLE $S.events (
  id        bigserial PRIMARY KEY,
  gateway   text NOT NULL,
  seq       bigint,
  source    text NOT NULL CHECK (source IN ('gateway', 'receiver')),
  kind      text NOT NULL,
  ts        timestamptz NOT NULL,
  body      jsonb NOT NULL
);
CREATE UNIQUE INDEX events_gateway_seq ON $S.events (gateway, seq) WHERE source = 'gateway';
CREATE INDEX events_gateway_ts ON $S.events (gateway, ts);
CREATE INDEX events_gap_entries ON $S.events (gateway) WHERE source = 'gateway' AND kind = 'gap';

CREATE TABLE $S.gaps (
  gateway    text NOT NULL,
  from_seq   bigint NOT NULL,
  to_seq     bigint NOT NULL,
  state      text NOT NULL CHECK (state IN ('open', 'closed', 'lost')),
  reason     text,
  opened_at  timestamptz NOT NULL,
  closed_at  timestamptz,
  PRIMARY KEY (gateway, from_seq)
);
CREATE INDEX gaps_open ON $S.gaps (gateway) WHERE state = 'open';
`;

/** In version order; the last one is the version this code expects. */
export const MIGRATIONS: readonly Migration[] = [{ version: 1, name: "tables", sql: V1_TABLES }];

export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
