import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { InProcessEventBus } from '../core/in-process-event-bus.js';
import type { EventBus, TaskStore } from '../core/ports.js';
import { migratePostgres } from './postgres/migrate.js';
import { PgEventBus } from './postgres/pg-event-bus.js';
import { createPool } from './postgres/pg-pool.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { migrateSqlite } from './sqlite/migrate.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface OpenStoreOptions {
  /** Background failures (a dropped event listener, an idle connection's error). */
  onError?: (error: unknown) => void;
}

const warn = (error: unknown) => console.warn('taskhub store:', error);

/** `postgres://…` and `postgresql://…` name a PostgreSQL database; anything else a SQLite file (or ':memory:'). */
export function isPostgresUrl(databaseUrl: string): boolean {
  return /^postgres(ql)?:\/\//i.test(databaseUrl);
}

/**
 * The store and event bus for a database URL, migrated and ready. On PostgreSQL the bus
 * reaches every instance on the same database; on SQLite (one process) it stays in-process.
 */
export async function openStore(
  databaseUrl: string,
  options: OpenStoreOptions = {},
): Promise<{ store: TaskStore; events: EventBus }> {
  const onError = options.onError ?? warn;
  if (!isPostgresUrl(databaseUrl)) {
    return { store: new SqliteStore(databaseUrl), events: new InProcessEventBus(onError) };
  }
  const store = await PostgresStore.open(databaseUrl, { onError });
  try {
    return { store, events: await PgEventBus.connect(databaseUrl, { onError }) };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** Applies pending migrations (`taskhub migrate`); returns how many ran. */
export async function migrateDatabase(databaseUrl: string): Promise<number> {
  if (isPostgresUrl(databaseUrl)) {
    const pool = createPool(databaseUrl, { max: 1 });
    try {
      return await migratePostgres(pool);
    } finally {
      await pool.end();
    }
  }
  if (databaseUrl !== ':memory:') mkdirSync(dirname(databaseUrl), { recursive: true });
  const db = new Database(databaseUrl);
  try {
    return migrateSqlite(db);
  } finally {
    db.close();
  }
}
