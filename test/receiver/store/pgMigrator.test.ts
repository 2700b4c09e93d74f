import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "../../../src/receiver/store/migrations.js";
import { migrateSchema, SchemaVersionError } from "../../../src/receiver/store/pgMigrator.js";
import { PG_URL, PgTestDb } from "./pgFixture.js";

describe("migrateSchema", () => {
  const db = new PgTestDb("migrate");
  const pool = new pg.Pool({ connectionString: PG_URL, max: 8 });

  beforeAll(async () => {
    await db.start();
  });
  afterAll(async () => {
    await pool.end();
    await db.stop();
  });

  async function migrate(schema = db.schema, migrations = MIGRATIONS) {
    const client = await pool.connect();
    try {
      return await migrateSchema(client, schema, migrations);
    } finally {
      client.release();
    }
  }

  it("creates every table once when receivers start together, and is a no-op afterwards", async () => {
    const results = await Promise.all(Array.from({ length: 6 }, () => migrate()));

    expect(results.filter((r) => r.applied.length > 0)).toHaveLength(1);
    expect(results.flatMap((r) => r.applied)).toEqual([LATEST_SCHEMA_VERSION]);
    const again = await migrate();
    expect(again).toEqual({ applied: [], version: LATEST_SCHEMA_VERSION });
    const versions = await db.query<{ version: number; name: string }>(
      "SELECT version, name FROM $S.edgewarden_schema_migrations ORDER BY version",
    );
    expect(versions).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    const tables = await db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
      [db.schema],
    );
    expect(tables.map((t) => t.table_name)).toEqual([
      "anomalies",
      "chain",
      "checkpoints",
      "edgewarden_schema_migrations",
      "events",
      "gaps",
      "gateways",
      "samples",
    ]);
  });

  it("applies only the versions a schema lacks", async () => {
    const extra = [...MIGRATIONS, { version: 99, name: "extra", sql: "CREATE TABLE $S.extra (x int)" }];

    const result = await migrate(db.schema, extra);

    expect(result).toEqual({ applied: [99], version: 99 });
    await db.query("DELETE FROM $S.edgewarden_schema_migrations WHERE version = 99");
    await db.query("DROP TABLE $S.extra");
  });

  it("refuses a schema migrated by a newer edgewarden, and leaves it alone", async () => {
    await db.query("INSERT INTO $S.edgewarden_schema_migrations (version, name) VALUES (1000, 'future')");

    const attempt = migrate();

    await expect(attempt).rejects.toThrow(SchemaVersionError);
    await expect(attempt).rejects.toThrow(/at migration 1000, newer than the 1 this edgewarden knows/);
    await db.query("DELETE FROM $S.edgewarden_schema_migrations WHERE version = 1000");
  });

  it("refuses a schema name that would need quoting", async () => {
    await expect(migrate('bad"name')).rejects.toThrow(/schema name/);
  });
});
