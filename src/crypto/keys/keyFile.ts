/**
 * The key file formats (issue #3, and the checkpoint key file of issue #5; fixed in
 * docs/protocol.md §2.1, §2.4, §8.5), parsed strictly and written canonically. All are UTF-8 JSON,
 * pretty-printed with two spaces and a trailing newline:
 *
 *   gateway:    {"format": "edgewarden-gateway-key", "version": 1, "active": "k2",
 *                "keys": [{"id": "k1", "created": "<ISO-8601 UTC>", "secret": "<base64url, 32 bytes>"}, ...]}
 *   device:     {"format": "edgewarden-device-key", "version": 1, "device": "press-2", "gateway"?: "gw-1",
 *                "keys": [{"id": "k1", "secret": "<base64url, 16 bytes>"}, ...]}
 *   checkpoint: {"format": "edgewarden-checkpoint-key", "version": 1, "gateway"?: "gw-1",
 *                "keys": [{"id": "k1", "secret": "<base64url, 32 bytes>"}, ...]}
 *
 * Parsing stops at the first problem and names it; unknown fields are refused so that a typo
 * ("secrets") is not silently ignored. No message ever includes a secret.
 */
import { decodeBase64url, encodeBase64url } from "./base64url.js";
import { CHECKPOINT_KEY_BYTES, DEVICE_KEY_BYTES, MASTER_KEY_BYTES } from "./derivation.js";
import { KeyFileError, quoteForMessage } from "./errors.js";
import { deviceIdProblem, gatewayIdProblem, keyIdProblem } from "./identifiers.js";

export const GATEWAY_KEY_FORMAT = "edgewarden-gateway-key";
export const DEVICE_KEY_FORMAT = "edgewarden-device-key";
export const CHECKPOINT_KEY_FORMAT = "edgewarden-checkpoint-key";
export const KEY_FILE_VERSION = 1;

export interface GatewayKey {
  readonly id: string;
  /** ISO-8601 UTC, as written by Date.prototype.toISOString. */
  readonly created: string;
  /** The 32-byte master secret. */
  readonly secret: Uint8Array;
}

export interface GatewayKeyFile {
  readonly kind: "gateway";
  readonly active: string;
  readonly keys: readonly GatewayKey[];
}

export interface DeviceKey {
  readonly id: string;
  /** The 16-byte derived device key. */
  readonly secret: Uint8Array;
}

export interface DeviceKeyFile {
  readonly kind: "device";
  readonly device: string;
  readonly gateway?: string;
  readonly keys: readonly DeviceKey[];
}

/** The derived checkpoint keys of a gateway (docs/protocol.md §8.5), for an upstream verifier. */
export interface CheckpointKeyFile {
  readonly kind: "checkpoint";
  readonly gateway?: string;
  /** secret: the 32-byte checkpoint key (HMAC-SHA256) of key id `id`. */
  readonly keys: readonly DeviceKey[];
}

/** The files that open envelopes: a KeyRing is made of one of these. */
export type EnvelopeKeyFile = GatewayKeyFile | DeviceKeyFile;
export type KeyFile = EnvelopeKeyFile | CheckpointKeyFile;

const FORMATS = `"${GATEWAY_KEY_FORMAT}", "${DEVICE_KEY_FORMAT}" or "${CHECKPOINT_KEY_FORMAT}"`;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

/** Parses the text of a key file; `source` names the file in every KeyFileError. */
export function parseKeyFile(text: string, source: string): KeyFile {
  const fail: Fail = (problem) => {
    throw new KeyFileError(source, problem);
  };
  const root = asObject(parseJson(text, source), "the file", fail);
  const format = root.format;
  const decoded: Uint8Array[] = [];
  try {
    if (format === GATEWAY_KEY_FORMAT) {
      checkVersionAndFields(root, ["format", "version", "active", "keys"], fail);
      return parseGatewayKeyFile(root, { fail, decoded });
    }
    if (format === DEVICE_KEY_FORMAT) {
      checkVersionAndFields(root, ["format", "version", "device", "gateway", "keys"], fail);
      return parseDeviceKeyFile(root, { fail, decoded });
    }
    if (format === CHECKPOINT_KEY_FORMAT) {
      checkVersionAndFields(root, ["format", "version", "gateway", "keys"], fail);
      return parseCheckpointKeyFile(root, { fail, decoded });
    }
  } catch (error) {
    // Best effort: secrets decoded before the problem was found are wiped.
    for (const bytes of decoded) {
      bytes.fill(0);
    }
    throw error;
  }
  return fail(
    format === undefined
      ? `not an edgewarden key file (no "format"; expected ${FORMATS})`
      : `format ${quoteForMessage(format)} is not an edgewarden key file (expected ${FORMATS})`,
  );
}

/** The canonical text of a key file: two-space JSON and a trailing newline. */
export function serializeKeyFile(file: KeyFile): string {
  return `${JSON.stringify(keyFileJson(file), null, 2)}\n`;
}

function keyFileJson(file: KeyFile): JsonObject {
  const secrets = (keys: readonly DeviceKey[]) =>
    keys.map((key) => ({ id: key.id, secret: encodeBase64url(key.secret) }));
  const gateway = file.kind !== "gateway" && file.gateway !== undefined ? { gateway: file.gateway } : {};
  switch (file.kind) {
    case "gateway":
      return {
        format: GATEWAY_KEY_FORMAT,
        version: KEY_FILE_VERSION,
        active: file.active,
        keys: file.keys.map((key) => ({
          id: key.id,
          created: key.created,
          secret: encodeBase64url(key.secret),
        })),
      };
    case "device":
      return {
        format: DEVICE_KEY_FORMAT,
        version: KEY_FILE_VERSION,
        device: file.device,
        ...gateway,
        keys: secrets(file.keys),
      };
    case "checkpoint":
      return {
        format: CHECKPOINT_KEY_FORMAT,
        version: KEY_FILE_VERSION,
        ...gateway,
        keys: secrets(file.keys),
      };
  }
}

/** Overwrites every secret the file holds with zeros: best effort, once the file is no longer needed. */
export function wipeKeyFile(file: KeyFile): void {
  for (const key of file.keys) {
    key.secret.fill(0);
  }
}

type Fail = (problem: string) => never;
type JsonObject = Record<string, unknown>;

/** How the parse of entries reports a problem, and the secrets decoded so far (to wipe on failure). */
interface ParseContext {
  readonly fail: Fail;
  readonly decoded: Uint8Array[];
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message can quote the text around the error, and that text may be a secret: report only
    // where it is.
    const position = /at position (\d+)/.exec(error instanceof Error ? error.message : "")?.[1];
    throw new KeyFileError(
      source,
      `not valid JSON${position === undefined ? "" : locate(text, Number(position))}`,
    );
  }
}

function locate(text: string, position: number): string {
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return ` (line ${line}, column ${column})`;
}

function asObject(value: unknown, what: string, fail: Fail): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${what} must be a JSON object`);
  }
  return value as JsonObject;
}

function checkVersionAndFields(root: JsonObject, allowed: readonly string[], fail: Fail): void {
  if (root.version !== KEY_FILE_VERSION) {
    fail(
      root.version === undefined
        ? `no "version" (expected ${KEY_FILE_VERSION})`
        : `version ${quoteForMessage(root.version)} is not supported (this edgewarden reads version ${KEY_FILE_VERSION})`,
    );
  }
  checkFields(root, allowed, "", fail);
}

function checkFields(object: JsonObject, allowed: readonly string[], where: string, fail: Fail): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) {
      fail(`${where}unknown field ${quoteForMessage(field)}`);
    }
  }
}

function parseGatewayKeyFile(root: JsonObject, context: ParseContext): GatewayKeyFile {
  const { fail } = context;
  const keys = keyEntries(root, fail).map((entry, index): GatewayKey => {
    const where = `keys[${index}]`;
    const object = asObject(entry, where, fail);
    checkFields(object, ["id", "created", "secret"], `${where}: `, fail);
    const id = keyId(object, where, fail);
    const created = createdTime(object, where, fail);
    return { id, created, secret: secret(object, where, MASTER_KEY_BYTES, "gateway", context) };
  });
  checkUniqueIds(keys, fail);
  const active = root.active;
  if (typeof active !== "string") {
    return fail(active === undefined ? `no "active" key id` : `"active" must be a key id such as "k1"`);
  }
  if (!keys.some((key) => key.id === active)) {
    fail(`active key ${quoteForMessage(active)} is not among the keys (${keys.map((k) => k.id).join(", ")})`);
  }
  return { kind: "gateway", active, keys };
}

function parseDeviceKeyFile(root: JsonObject, context: ParseContext): DeviceKeyFile {
  const { fail } = context;
  const device = root.device;
  if (typeof device !== "string") {
    return fail(device === undefined ? `no "device"` : `"device" must be a device id (text)`);
  }
  const badDevice = deviceIdProblem(device);
  if (badDevice !== undefined) {
    fail(`device: ${badDevice}`);
  }
  const gateway = optionalGateway(root, fail);
  const keys = derivedKeys(root, DEVICE_KEY_BYTES, "device", context);
  return { kind: "device", device, ...(gateway === undefined ? {} : { gateway }), keys };
}

function parseCheckpointKeyFile(root: JsonObject, context: ParseContext): CheckpointKeyFile {
  const gateway = optionalGateway(root, context.fail);
  const keys = derivedKeys(root, CHECKPOINT_KEY_BYTES, "checkpoint", context);
  return { kind: "checkpoint", ...(gateway === undefined ? {} : { gateway }), keys };
}

function optionalGateway(root: JsonObject, fail: Fail): string | undefined {
  const gateway = root.gateway;
  if (gateway !== undefined && (typeof gateway !== "string" || gatewayIdProblem(gateway) !== undefined)) {
    fail(
      `gateway: ${typeof gateway === "string" ? gatewayIdProblem(gateway) : "must be a gateway id (text)"}`,
    );
  }
  return typeof gateway === "string" ? gateway : undefined;
}

/** The keys of an exported file: an id and a derived secret of `bytes` bytes each. */
function derivedKeys(root: JsonObject, bytes: number, kind: string, context: ParseContext): DeviceKey[] {
  const { fail } = context;
  const keys = keyEntries(root, fail).map((entry, index): DeviceKey => {
    const where = `keys[${index}]`;
    const object = asObject(entry, where, fail);
    checkFields(object, ["id", "secret"], `${where}: `, fail);
    return { id: keyId(object, where, fail), secret: secret(object, where, bytes, kind, context) };
  });
  checkUniqueIds(keys, fail);
  return keys;
}

function keyEntries(root: JsonObject, fail: Fail): unknown[] {
  const keys = root.keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    return fail(keys === undefined ? `no "keys"` : `"keys" must be a non-empty list`);
  }
  return keys;
}

function keyId(object: JsonObject, where: string, fail: Fail): string {
  const id = object.id;
  if (typeof id !== "string") {
    return fail(`${where}.id: ${id === undefined ? "missing" : 'must be a key id such as "k1"'}`);
  }
  const problem = keyIdProblem(id);
  return problem === undefined ? id : fail(`${where}.id: ${problem}`);
}

function createdTime(object: JsonObject, where: string, fail: Fail): string {
  const created = object.created;
  if (typeof created !== "string" || !ISO_UTC.test(created) || Number.isNaN(Date.parse(created))) {
    const found = created === undefined ? "missing; expected" : `${quoteForMessage(created)} is not`;
    return fail(`${where}.created: ${found} an ISO-8601 UTC time such as "2025-01-31T12:00:00.000Z"`);
  }
  return created;
}

function secret(
  object: JsonObject,
  where: string,
  bytes: number,
  kind: string,
  context: ParseContext,
): Uint8Array {
  const { fail } = context;
  const text = object.secret;
  if (typeof text !== "string") {
    return fail(`${where}.secret: ${text === undefined ? "missing" : "must be base64url text"}`);
  }
  const decoded = decodeBase64url(text);
  if (decoded === undefined) {
    // The value itself is never quoted: it is (a damaged copy of) a secret.
    return fail(`${where}.secret is not base64url without padding`);
  }
  if (decoded.length !== bytes) {
    decoded.fill(0);
    return fail(`${where}.secret holds ${decoded.length} bytes; a ${kind} key is ${bytes} bytes`);
  }
  context.decoded.push(decoded);
  return decoded;
}

function checkUniqueIds(keys: readonly { readonly id: string }[], fail: Fail): void {
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.id)) {
      fail(`key id ${quoteForMessage(key.id)} appears more than once`);
    }
    seen.add(key.id);
  }
}
