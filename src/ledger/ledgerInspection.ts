/**
 * Opening a ledger directory for the `ledger` commands (issue #5 item 4): a read-only use of a
 * stopped daemon's directory. classic-level creates the directory and its LOCK and LOG files even
 * with createIfMissing false, so the directory is checked first: a typo in -d must not leave an
 * empty "ledger" behind. LevelDB's LOCK is the daemon's; while it is held the answer says so.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { type LedgerDatabase, openLedgerDb } from "./ledgerDb.js";
import { LedgerLockedError, LedgerMissingError } from "./ledgerErrors.js";

/** The directory holds no ledger, or holds one that cannot be opened now (the CLI's exit 1). */
export class LedgerUnopenableError extends Error {
  override readonly name = "LedgerUnopenableError";
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Throws LedgerUnopenableError unless `dir` is a directory holding a LevelDB (its CURRENT file). */
export async function checkLedgerDir(dir: string): Promise<void> {
  try {
    if (!(await stat(dir)).isDirectory()) {
      throw new LedgerUnopenableError(`ledger ${dir} is not a directory`);
    }
  } catch (error) {
    if (error instanceof LedgerUnopenableError) {
      throw error;
    }
    const code = errnoCode(error);
    throw new LedgerUnopenableError(
      code === "ENOENT"
        ? `ledger ${dir} does not exist`
        : `ledger ${dir} cannot be read (${code ?? String(error)})`,
      { cause: error },
    );
  }
  try {
    await stat(join(dir, "CURRENT"));
  } catch (error) {
    throw new LedgerUnopenableError(
      errnoCode(error) === "ENOENT"
        ? `${dir} holds no ledger (no LevelDB CURRENT file)`
        : `ledger ${dir} cannot be read (${errnoCode(error) ?? String(error)})`,
      { cause: error },
    );
  }
}

/** The message for a directory whose LOCK is held (the daemon, or another ledger command). */
export function ledgerInUseMessage(dir: string): string {
  return `ledger ${dir} is in use by a running daemon (LevelDB lock); stop it or copy the directory`;
}

/** The ledger's "cannot open" errors as LedgerUnopenableError with the message the CLI prints; others as they are. */
export function asUnopenable(dir: string, error: unknown): unknown {
  if (error instanceof LedgerLockedError) {
    return new LedgerUnopenableError(ledgerInUseMessage(dir), { cause: error });
  }
  if (error instanceof LedgerMissingError) {
    return new LedgerUnopenableError(`${dir} holds no ledger`, { cause: error });
  }
  return error;
}

/** Opens an existing ledger without creating anything; LedgerUnopenableError when it cannot. */
export async function openLedgerForInspection(dir: string): Promise<LedgerDatabase> {
  await checkLedgerDir(dir);
  try {
    return await openLedgerDb(dir, { createIfMissing: false });
  } catch (error) {
    const mapped = asUnopenable(dir, error);
    throw mapped instanceof LedgerUnopenableError
      ? mapped
      : new LedgerUnopenableError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
