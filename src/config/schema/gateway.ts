/** The `gateway`, `selfHealth`, `storage` and `observability` sections: the box itself. */
import * as z from "zod";
import { byteSize, duration, filePath, host, integer, isTimeZone, name, port, text } from "./primitives.js";

export const gatewaySchema = z
  .strictObject({
    id: name("gateway id", "Unique id of this gateway. Appears in MQTT topics and in every sealed envelope."),
    site: name("site name", "The plant or site this gateway belongs to; the {site} level of MQTT topics."),
    description: text("Free text for people: where the box hangs, who looks after it.").optional(),
    dataDir: filePath(
      "State directory: the ledger, learnt models and the instance lock live below it. systemd's StateDirectory.",
    ).default("/var/lib/edgewarden"),
    timezone: z
      .string()
      .refine(isTimeZone, {
        error: (issue) =>
          `expected an IANA time zone such as Europe/Berlin or UTC (got ${JSON.stringify(issue.input)})`,
      })
      .default("UTC")
      .meta({ description: "Local time zone of the plant, for shift calendars and schedules." }),
    startTimeout: duration({
      min: "1s",
      max: "10m",
      example: "90s",
      description:
        "How long start-up may take (e.g. waiting for a previous instance to release the data directory).",
    }).prefault("90s"),
    stopTimeout: duration({
      min: "1s",
      max: "5m",
      example: "20s",
      description: "Bound on a graceful stop; keep it below systemd's TimeoutStopSec.",
    }).prefault("20s"),
  })
  .meta({ description: "Identity and lifecycle of this gateway." });

export const selfHealthSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: "Sample the gateway's own CPU, memory, disk, temperature and network." }),
    interval: duration({
      min: "1s",
      max: "1h",
      example: "30s",
      description: "How often to sample.",
    }).prefault("30s"),
  })
  .meta({ description: "The gateway's own health, sampled like a device and used for the gateway profile." });

export const storageSchema = z
  .strictObject({
    dir: filePath("Directory of the LevelDB ledger. Default: <gateway.dataDir>/ledger.").optional(),
    commitInterval: duration({
      min: "1ms",
      max: "10s",
      example: "50ms",
      description:
        "Group commit: appends are synced to disk at most this often. A power cut can lose at most this window.",
    }).prefault("50ms"),
    commitMaxRecords: integer(1, 100_000, "Group commit: sync early once this many records wait.").default(
      1_000,
    ),
    retention: z
      .strictObject({
        maxBytes: byteSize({ min: "16MiB", max: "4TiB", description: "Disk budget of the ledger." }).prefault(
          "1GiB",
        ),
        maxAge: duration({
          min: "1h",
          max: "3650d",
          example: "30d",
          description: "Records older than this are removed.",
        }).prefault("30d"),
      })
      .prefault({})
      .meta({
        description:
          "What the ledger keeps. Acknowledged records go first; losing unacknowledged ones is recorded as a gap.",
      }),
    checkpoints: z
      .strictObject({
        everyRecords: integer(10, 10_000_000, "Append a keyed checkpoint after this many records.").default(
          10_000,
        ),
        interval: duration({
          min: "1s",
          max: "1d",
          example: "5m",
          description: "...or after this much time.",
        }).prefault("5m"),
      })
      .prefault({})
      .meta({ description: "Keyed checkpoints (HMAC of seq and chain hash) published upstream." }),
    degradedBufferRecords: integer(
      100,
      1_000_000,
      "While the disk is full or read-only, hold at most this many records in memory; the oldest are shed and counted.",
    ).default(10_000),
  })
  .meta({ description: "The local hash-chained log, which is also the store-and-forward outbox." });

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

export const observabilitySchema = z
  .strictObject({
    log: z
      .strictObject({
        level: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info").meta({
          description: "Minimum level written to stdout (journald). EDGEWARDEN_LOG_LEVEL overrides it.",
        }),
        repeatWindow: duration({
          min: "1s",
          max: "1h",
          example: "60s",
          description:
            "Identical repeated errors are logged once per window, with a count of those suppressed.",
        }).prefault("60s"),
      })
      .prefault({}),
    status: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .meta({ description: "Serve the read-only status and metrics endpoint." }),
        host: host("Listen address; loopback only.")
          .refine((value) => LOOPBACK.test(value), {
            error: (issue) =>
              `the status endpoint is read-only and unauthenticated, so it listens on loopback only: use 127.0.0.1 or ::1 (got ${JSON.stringify(issue.input)})`,
          })
          .default("127.0.0.1"),
        port: port("Listen port.").default(9750),
      })
      .prefault({})
      .meta({ description: "Local HTTP endpoint with JSON status and Prometheus metrics." }),
    health: z
      .strictObject({
        enabled: z.boolean().default(true).meta({
          description:
            "Publish a health snapshot on {prefix}/{site}/{gateway}/health while the uplink is enabled (docs/protocol.md §1).",
        }),
        interval: duration({
          min: "5s",
          max: "1h",
          example: "60s",
          description: "How often health is published (retained) on MQTT; also once after every connect.",
        }).prefault("60s"),
      })
      .prefault({})
      .meta({
        description:
          "The gateway's health on MQTT (issue #7): retained, sealed like a record (under the _gateway key), never queued while offline and never written to the ledger.",
      }),
  })
  .meta({ description: "Logging, status endpoint and health reporting." });
