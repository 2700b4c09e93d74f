/** The `uplink` (MQTT) and `crypto` sections: how records leave the gateway. */
import * as z from "zod";
import { byteSize, duration, filePath, host, integer, text } from "./primitives.js";

/** Placeholders DESIGN.md allows in topic templates; {stream} is one of data|alerts|events|checkpoints. */
export const TOPIC_PLACEHOLDERS = ["prefix", "site", "gateway", "device", "stream"] as const;

const topicLevel = /^[^#+\0]*$/;

export const topicsSchema = z
  .strictObject({
    prefix: text("First topic level, shared by all gateways of a company or plant network.", 128)
      .regex(/^[^/#+\0][^#+\0]*$/, {
        error: (issue) =>
          `expected topic levels without "+", "#" or a leading "/" (got ${JSON.stringify(issue.input)})`,
      })
      .default("edgewarden"),
    template: z
      .string()
      .regex(topicLevel, { error: 'a topic template cannot contain the MQTT wildcards "+" or "#"' })
      .superRefine((template, ctx) => {
        const used = [...template.matchAll(/\{([^}]*)\}/g)].map((match) => match[1] ?? "");
        for (const placeholder of used) {
          if (!(TOPIC_PLACEHOLDERS as readonly string[]).includes(placeholder)) {
            ctx.addIssue({
              code: "custom",
              message: `unknown placeholder {${placeholder}}; the template may use ${TOPIC_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")}`,
            });
          }
        }
        for (const required of ["gateway", "stream"] as const) {
          if (!used.includes(required)) {
            ctx.addIssue({
              code: "custom",
              message: `the template must contain {${required}} so that ${required === "gateway" ? "gateways do not publish over each other" : "data, alerts, events and checkpoints stay apart"}`,
            });
          }
        }
      })
      .default("{prefix}/{site}/{gateway}/{device}/{stream}")
      .meta({
        description:
          "Topic of each record. Placeholders: {prefix} {site} {gateway} {device} {stream}. The status topic is always {prefix}/{site}/{gateway}/status.",
      }),
  })
  .meta({ description: "MQTT topic layout (docs/protocol.md)." });

export const tlsSchema = z
  .strictObject({
    caFile: filePath(
      "CA certificate(s) to trust for the broker, PEM. Default: the system's trust store.",
    ).optional(),
    certFile: filePath(
      "Client certificate, PEM, for brokers that authenticate gateways by certificate.",
    ).optional(),
    keyFile: filePath("Private key of the client certificate, PEM; must be mode 0600.").optional(),
    serverName: host(
      "Name expected in the broker's certificate when it differs from the URL's host.",
    ).optional(),
    rejectUnauthorized: z.boolean().default(true).meta({
      description:
        "Verify the broker's certificate. Turn off only on a test bench; every start logs a warning.",
    }),
  })
  .meta({ description: "TLS settings for mqtts:// and wss:// URLs." });

export const uplinkSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: "Forward the ledger to the broker. Off: records are kept locally only." }),
    url: z
      .string()
      .regex(/^(mqtts?|wss?):\/\/[^\s/?#]+(:\d{1,5})?(\/\S*)?$/, {
        error: (issue) =>
          `expected a broker URL such as mqtts://broker.plant.local:8883 (schemes mqtt, mqtts, ws, wss; got ${JSON.stringify(issue.input)})`,
      })
      .refine((url) => !/^[a-z]+:\/\/[^/]*@/.test(url), {
        error: "do not put credentials in the URL (they would show in logs); use username and passwordFile",
      })
      .meta({ description: "Broker URL: mqtts://host:8883 (TLS), mqtt://host:1883, wss://host/mqtt." }),
    mqttVersion: z
      .enum(["5", "3.1.1"])
      .default("5")
      .meta({ description: 'MQTT protocol version. "3.1.1" for brokers that lack MQTT 5.' }),
    clientId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\x21-\x7e]+$/, { error: "expected printable ASCII without spaces" })
      .optional()
      .meta({ description: "Persistent MQTT client id. Default: edgewarden-<gateway.id>." }),
    username: text("Broker user name.", 256).optional(),
    passwordFile: filePath("File holding the broker password (first line); must be mode 0600.").optional(),
    tls: tlsSchema.optional(),
    keepalive: duration({
      min: "5s",
      max: "20m",
      example: "30s",
      description: "MQTT keepalive; a dead link is noticed within about 1.5 times this.",
    }).prefault("30s"),
    connectTimeout: duration({
      min: "1s",
      max: "5m",
      example: "30s",
      description: "Give up a connection attempt after this long.",
    }).prefault("30s"),
    reconnect: z
      .strictObject({
        initialDelay: duration({
          min: "100ms",
          max: "5m",
          example: "1s",
          description: "First reconnect delay.",
        }).prefault("1s"),
        maxDelay: duration({
          min: "1s",
          max: "1h",
          example: "60s",
          description: "Reconnect delay cap; delays double with jitter up to this.",
        }).prefault("60s"),
      })
      .prefault({}),
    // Issue #7: a clean stop with the broker up hands over what the gateway holds, bounded.
    drainOnStop: duration({
      min: "0s",
      max: "5m",
      example: "3s",
      description:
        "At a stop while connected, keep publishing until every record appended so far is acknowledged, for at most this long (and at most half of the forwarder's share of gateway.stopTimeout). 0s: stop at once; what is left goes at the next start.",
    }).prefault("3s"),
    // 64 (issue #5): enough to cover the round trip to a broker a few ms away at 20,000 records/s.
    inflight: integer(
      1,
      1024,
      "Publishes awaiting PUBACK at once (the in-flight window); an MQTT 5 broker's Receive Maximum lowers it. Also the most duplicates one reconnect can cause.",
    ).default(64),
    maxPacketSize: byteSize({
      min: "1KiB",
      max: "256MiB",
      description:
        "Largest MQTT packet to send when the broker does not announce one (MQTT 3.1.1, or an MQTT 5 CONNACK without Maximum Packet Size). A record whose packet would be larger becomes a deadletter record instead of being retried.",
    }).optional(),
    batch: z
      .strictObject({
        maxRecords: integer(
          1,
          1000,
          "Consecutive records of one topic sent in one message (1: one record per message, no batching). See docs/protocol.md, Batches.",
        ).default(1),
        maxBytes: byteSize({
          min: "1KiB",
          max: "512KiB",
          description:
            "Largest plaintext of one batched message (the entries' texts and the line feeds between them).",
        }).prefault("64KiB"),
      })
      .prefault({})
      .meta({ description: "Batching of several records per message (off by default)." }),
    topics: topicsSchema.prefault({}),
  })
  .meta({ description: "MQTT forwarding of the ledger (QoS 1, resumes from the acknowledged cursor)." });

export const cryptoSchema = z
  .strictObject({
    encryption: z.enum(["ascon-aead128", "none"]).default("ascon-aead128").meta({
      description:
        'Seal every record with Ascon-AEAD128 (NIST SP 800-232). "none" publishes in clear and warns at every start.',
    }),
    keyFile: filePath(
      "Gateway master key file (256-bit, mode 0600), made by `edgewarden keys generate`.",
    ).default("/etc/edgewarden/gateway.key"),
  })
  .meta({ description: "Sealing of published records (docs/protocol.md)." });
