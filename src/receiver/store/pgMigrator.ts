/**
 * Applies the receiver's migrations at start (issue #7 item 2), in one transaction under a
 * transaction-level advisory lock: receivers of one group start together, and without the lock
 * two of them would both see version 0 and both create the tables (one fails on a duplicate).
 * The lock also covers CREATE SCHEMA IF NOT EXISTS, which is not safe against a concurrent twin.
 * A database at a version newer than this code knows is refused: an old receiver must not write
 * into tables whose meaning it does not know.
 */
import type { PoolClient } from "pg";
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from "./migrations.js";

/** PostgreSQL identifiers we accept for the schema: no quoting surprises, at most 63 bytes. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export class SchemaVersionError extends Error {
  override readonly name = "SchemaVersionError";
}

/** The schema name, checked and double-quoted for SQL text. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new SchemaVersionError(
      `schema name ${JSON.stringify(schema)} must be lowercase letters, digits and _ (at most 63), not starting with a digit`,
    );
  }
  return `"${schema}"`;
}

export interface MigrationResult {
  /** The versions this call applied, in order; empty when the schema was current. */
  readonly applied: readonly number[];
  readonly version: number;
}

export async function migrateSchema(
  client: PoolClient,
  schema: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationResult> {
  const s = quoteSchema(schema);
  const latest = migrations.at(-1)?.version ?? LATEST_SCHEMA_VERSION;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`edgewarden-migrate:${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.edgewarden_schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const found = await client.query<{ version: number | null }>(
      `SELECT max(version) AS version FROM ${s}.edgewarden_schema_migrations`,
    );
    const current = found.rows[0]?.version ?? 0;
    if (current > latest) {
      throw new SchemaVersionError(
        `schema ${schema} is at migration ${current}, newer than the ${latest} this edgewarden knows: upgrade the receiver (or point it at another schema)`,
      );
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) {
        continue;
      }
      await client.query(migration.sql.replaceAll("$S", s));
      await client.query(`INSERT INTO ${s}.edgewarden_schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return { applied, version: Math.max(current, latest) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}
