/**
 * Files the config points at, checked before start (and by `check`, as warnings): present,
 * readable, and — for secrets — not readable by group or others (issue #2; issue #3 for keys).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import type { ConfigPath } from "../config/configIssue.js";
import type { Config } from "../config/schema/index.js";

interface FileRef {
  readonly path: ConfigPath;
  readonly file: string;
  readonly secret: boolean;
}

export function referencedFiles(config: Config): FileRef[] {
  const refs: FileRef[] = [];
  const uplink = config.uplink;
  if (uplink?.enabled) {
    if (config.crypto.encryption !== "none") {
      refs.push({ path: ["crypto", "keyFile"], file: config.crypto.keyFile, secret: true });
    }
    if (uplink.passwordFile !== undefined) {
      refs.push({ path: ["uplink", "passwordFile"], file: uplink.passwordFile, secret: true });
    }
    const tls = uplink.tls;
    if (tls?.caFile !== undefined) {
      refs.push({ path: ["uplink", "tls", "caFile"], file: tls.caFile, secret: false });
    }
    if (tls?.certFile !== undefined) {
      refs.push({ path: ["uplink", "tls", "certFile"], file: tls.certFile, secret: false });
    }
    if (tls?.keyFile !== undefined) {
      refs.push({ path: ["uplink", "tls", "keyFile"], file: tls.keyFile, secret: true });
    }
  }
  return refs;
}

export async function checkReferencedFiles(config: Config): Promise<{ path: ConfigPath; message: string }[]> {
  const problems: { path: ConfigPath; message: string }[] = [];
  for (const ref of referencedFiles(config)) {
    const problem = await checkFile(ref);
    if (problem !== undefined) {
      problems.push({ path: ref.path, message: problem });
    }
  }
  return problems;
}

async function checkFile(ref: FileRef): Promise<string | undefined> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(ref.file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT"
      ? `${ref.file} does not exist`
      : `${ref.file} cannot be read (${code ?? "error"})`;
  }
  if (!info.isFile()) {
    return `${ref.file} is not a regular file`;
  }
  try {
    await access(ref.file, constants.R_OK);
  } catch {
    return `${ref.file} is not readable by this user`;
  }
  if (ref.secret && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
    return `${ref.file} holds a secret but is readable by group or others (mode ${mode}); run: chmod 600 ${ref.file}`;
  }
  return undefined;
}
