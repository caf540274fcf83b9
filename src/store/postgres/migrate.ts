import type pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations/index.js';
import { inTransaction } from './pg-pool.js';

/**
 * Any constant works as long as nothing else in the database uses it: it only has to be the
 * same for every taskhub instance. ('task' in ASCII.)
 */
const MIGRATION_LOCK = 0x7461736b;

/**
 * Applies every migration not yet applied, each in its own transaction, and returns how many
 * ran. Each transaction first takes a transaction-scoped advisory lock, so instances that
 * start together take turns: the second finds the version recorded and skips it (and no two
 * instances race on CREATE TABLE IF NOT EXISTS, which is not safe under concurrency).
 */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  let count = 0;
  for (const migration of POSTGRES_MIGRATIONS) {
    await inTransaction(pool, async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const applied = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (applied.rowCount !== 0) return;
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()]);
      count++;
    });
  }
  return count;
}
