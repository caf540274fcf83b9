import type pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations/index.js';

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
  const client = await pool.connect();
  let count = 0;
  let broken: Error | undefined;
  try {
    for (const migration of POSTGRES_MIGRATIONS) {
      await client.query('BEGIN');
      try {
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await client.query(
          'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
        );
        const applied = await client.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
        if (applied.rowCount === 0) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [
            migration.version,
            Date.now(),
          ]);
          count++;
        }
        await client.query('COMMIT');
      } catch (error) {
        // A connection that cannot roll back is not handed back to the pool.
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
    }
  } finally {
    client.release(broken);
  }
  return count;
}
