/**
 * The files a receiver's config points at, read once at start (issue #7 item 2): the key files
 * (refused unless mode 0600, like the daemon's: crypto/keys loadKeyFile), the broker's TLS and
 * password files (the uplink's readUplinkFiles) and the database password. A problem is reported
 * like a config error, FILE:LINE:COL at the key that names the file, and the command exits 2.
 * Messages never carry a file's content.
 */
import type { ConfigIssue } from "../../config/configIssue.js";
import { type KeyFile, KeyFileError, loadKeyFile, wipeKeyFile } from "../../crypto/keys/index.js";
import {
  readUplinkFile,
  readUplinkFiles,
  UplinkFileError,
  type UplinkFiles,
} from "../../uplink/uplinkFiles.js";
import type { ReceiverKeyFile } from "../receiverKeys.js";
import type { Locate } from "./loadReceiverConfig.js";
import type { ReceiverConfig } from "./receiverSchema.js";

export interface ReceiverFiles {
  readonly keyFiles: readonly ReceiverKeyFile[];
  readonly mqtt: UplinkFiles;
  /** The database password's first line, when store.postgres.passwordFile is set. */
  readonly databasePassword?: string;
}

export type ReceiverFilesResult =
  | { readonly ok: true; readonly files: ReceiverFiles }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[] };

export async function readReceiverFiles(
  config: ReceiverConfig,
  locate: Locate,
): Promise<ReceiverFilesResult> {
  const errors: ConfigIssue[] = [];
  const issue = (path: (string | number)[], message: string): void => {
    errors.push({ severity: "error", path, message, ...locate(path) });
  };
  const keyFiles: ReceiverKeyFile[] = [];
  for (const [index, key] of config.keys.entries()) {
    try {
      const file: KeyFile = await loadKeyFile(key.file);
      keyFiles.push({ file, source: key.file, gateway: key.gateway });
    } catch (error) {
      if (!(error instanceof KeyFileError)) {
        throw error;
      }
      issue(["keys", index, "file"], error.message);
    }
  }
  let mqtt: UplinkFiles = {};
  try {
    mqtt = await readUplinkFiles(config.mqtt);
  } catch (error) {
    if (!(error instanceof UplinkFileError)) {
      throw error;
    }
    issue(["mqtt", ...pathOfUplinkFile(config, error.message)], error.message);
  }
  let databasePassword: string | undefined;
  const passwordFile = config.store.postgres?.passwordFile;
  if (passwordFile !== undefined) {
    try {
      const raw = await readUplinkFile(passwordFile, { what: "password file", secret: true });
      databasePassword = raw.toString("utf8").split(/\r?\n/, 1)[0] ?? "";
      raw.fill(0);
      if (databasePassword === "") {
        issue(
          ["store", "postgres", "passwordFile"],
          `${passwordFile}: password file: the first line is empty`,
        );
      }
    } catch (error) {
      if (!(error instanceof UplinkFileError)) {
        throw error;
      }
      issue(["store", "postgres", "passwordFile"], error.message);
    }
  }
  if (errors.length > 0) {
    for (const { file } of keyFiles) {
      wipeKeyFile(file);
    }
    return { ok: false, errors };
  }
  return {
    ok: true,
    files: { keyFiles, mqtt, ...(databasePassword === undefined ? {} : { databasePassword }) },
  };
}

/** Which mqtt key named the file an UplinkFileError is about (its message starts with the path). */
function pathOfUplinkFile(config: ReceiverConfig, message: string): string[] {
  const tls = config.mqtt.tls;
  const candidates: [string[], string | undefined][] = [
    [["passwordFile"], config.mqtt.passwordFile],
    [["tls", "caFile"], tls?.caFile],
    [["tls", "certFile"], tls?.certFile],
    [["tls", "keyFile"], tls?.keyFile],
  ];
  return candidates.find(([, path]) => path !== undefined && message.startsWith(`${path}:`))?.[0] ?? [];
}
