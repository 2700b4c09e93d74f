/**
 * The receiver's own config file (issue #7 item 2: `edgewarden receive -c FILE`): which broker and
 * subscription, which topic layout, which key files, and where to store. Its own schema, not a
 * section of the daemon's: a receiver runs upstream, on another machine, with other secrets. The
 * building blocks (durations, file paths, the uplink's URL, TLS and topic rules) are the daemon's,
 * so the same value means the same thing and is refused with the same message in both files.
 */
import * as z from "zod";
import { duration, filePath, integer, name } from "../../config/schema/primitives.js";
import { tlsSchema, topicsSchema, uplinkSchema } from "../../config/schema/uplink.js";

const uplink = uplinkSchema.shape;

/** A shared subscription group name: one topic level, no wildcards (MQTT 5 §4.8.2). */
const groupName = name(
  "shared subscription group name",
  "Shared subscription group (MQTT 5 §4.8.2): receivers with the same group split the stream, each message going to one of them. Needs store.postgres (see docs/receiver.md).",
);

/** An MQTT topic filter: wildcards only as whole levels (MQTT 5 §4.7.1). */
const topicFilter = z
  .string()
  .min(1)
  .max(1024)
  .refine((filter) => !filter.startsWith("$share/"), {
    error: "write the filter without $share/; set mqtt.group for a shared subscription",
  })
  .refine(
    (filter) =>
      filter.split("/").every((level, i, levels) => {
        if (level.includes("#")) {
          return level === "#" && i === levels.length - 1;
        }
        return !level.includes("+") || level === "+";
      }),
    { error: 'expected an MQTT topic filter: "+" and "#" only as whole levels, "#" only last' },
  )
  .meta({ description: "Topic filter to subscribe to. Default: <topics.prefix>/#." });

const mqttSchema = z
  .strictObject({
    url: uplink.url,
    clientId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, { error: "expected printable ASCII without spaces" })
      .meta({
        description:
          "MQTT client id; the broker keeps this receiver's session (and the messages it has not acknowledged) under it. Unique per receiver, stable across restarts.",
      }),
    username: uplink.username,
    passwordFile: uplink.passwordFile,
    tls: tlsSchema.optional(),
    group: groupName.optional(),
    subscribe: topicFilter.optional(),
    sessionExpiry: duration({
      min: "0s",
      max: "49710d",
      example: "1h",
      description:
        "How long the broker keeps the session (its subscription and queued QoS 1 messages) while the receiver is away (MQTT 5 Session Expiry Interval).",
    }).prefault("1h"),
    receiveMaximum: integer(
      1,
      65_535,
      "Messages the broker may send before the receiver acknowledges any (MQTT 5 Receive Maximum): bounds what the receiver holds unacknowledged.",
    ).default(1000),
    keepalive: uplink.keepalive,
    connectTimeout: uplink.connectTimeout,
    reconnect: uplink.reconnect,
  })
  .meta({ description: "The broker and the subscription (MQTT 5, persistent session, QoS 1)." });

/** PostgreSQL identifiers the store creates its tables under; lower case so that no quoting is needed. */
const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
    error: (issue) =>
      `expected a PostgreSQL schema name of lower-case letters, digits and "_" (got ${JSON.stringify(issue.input)})`,
  })
  .default("edgewarden")
  .meta({ description: "Schema holding the receiver's tables (created by the migration at start)." });

const postgresSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\/[^\s]+$/, {
        error: (issue) =>
          `expected a URL such as postgres://edgewarden@db.plant.local:5432/plant (got ${JSON.stringify(issue.input)})`,
      })
      .refine((url) => !/^[a-z]+:\/\/[^/@]*:[^/@]*@/.test(url), {
        error: "do not put the password in the URL (it would show in logs); use passwordFile",
      })
      .meta({ description: "PostgreSQL URL, without the password." }),
    passwordFile: filePath("File holding the database password (first line); must be mode 0600.").optional(),
    schema: schemaName,
    poolSize: integer(1, 100, "Database connections.").optional(),
    auditInterval: duration({
      min: "1s",
      max: "1h",
      example: "10s",
      description: "How often stored seq ranges are checked for holes that became gaps.",
    }).prefault("10s"),
    gapGrace: duration({
      min: "0s",
      max: "1d",
      example: "30s",
      description:
        "How long a missing seq may be late (another receiver of the group may hold it) before it is stored as a gap.",
    }).prefault("30s"),
  })
  .meta({ description: "Store in PostgreSQL (needed for a shared subscription group)." });

const jsonlSchema = z
  .strictObject({
    path: z.string().min(1, { error: 'expected a file path, or "-" for stdout' }).meta({
      description: 'File the JSON lines are appended to; "-": stdout (log lines then go to stderr).',
    }),
  })
  .meta({ description: "Store as JSON lines, one per record and per event (one receiver only)." });

const storeSchema = z
  .strictObject({ postgres: postgresSchema.optional(), jsonl: jsonlSchema.optional() })
  .superRefine((store, ctx) => {
    const chosen = [store.postgres, store.jsonl].filter((part) => part !== undefined).length;
    if (chosen !== 1) {
      ctx.addIssue({
        code: "custom",
        message: `expected exactly one of "postgres" or "jsonl" (got ${chosen === 0 ? "neither" : "both"})`,
      });
    }
  })
  .meta({ description: "Where accepted records and gap/tamper/rejection events go." });

const keySchema = z.strictObject({
  file: filePath(
    "A gateway key file or an exported device or checkpoint key file (mode 0600), relative to this file.",
  ),
  gateway: name(
    "gateway id",
    "The gateway this file belongs to. Without it the file is tried for any gateway (one-gateway setups).",
  ).optional(),
});

export const receiverConfigObjectSchema = z
  .strictObject({
    mqtt: mqttSchema,
    topics: topicsSchema.prefault({}),
    keys: z.array(keySchema).min(1, { error: "expected at least one key file" }),
    store: storeSchema,
    batch: z
      .strictObject({
        maxMessages: integer(1, 65_535, "Messages stored (and then acknowledged) together at most.").default(
          500,
        ),
        maxDelay: duration({
          min: "0ms",
          max: "10s",
          example: "50ms",
          description: "How long the first message of a batch waits for others before the batch is stored.",
        }).prefault("50ms"),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
        countersInterval: duration({
          min: "1s",
          max: "1d",
          example: "1m",
          description: "How often a log line with the counters' totals is written (and once at stop).",
        }).prefault("1m"),
        rejectionsPerMinute: integer(
          0,
          100_000,
          "Log lines about rejections, tampering and gaps per minute at most; the rest are counted (and said) only.",
        ).default(60),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    // Each receiver of a group sees only part of every gateway's stream: only a store that all
    // of them share can tell a hole from a record another receiver holds (issue #7 item 2).
    if (config.mqtt.group !== undefined && config.store.postgres === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["mqtt", "group"],
        message:
          "a shared subscription group needs store.postgres: with jsonl each receiver would see only part of each chain",
      });
    }
  })
  .meta({ description: "edgewarden receive: the upstream receiver (docs/receiver.md)." });

export type ReceiverConfig = z.output<typeof receiverConfigObjectSchema>;
export type ReceiverStoreConfig = ReceiverConfig["store"];
