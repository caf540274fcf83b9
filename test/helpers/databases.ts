import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { EventBus, TaskStore } from '../../src/core/ports.js';
import { openStore } from '../../src/store/open-store.js';
import { ADMIN_URL, databaseUrl, withClient } from './postgres-admin.js';

/**
 * Real databases for the engine-independent suites: SQLite on a temp file, PostgreSQL on a
 * database made for the test file that imports this (dropped after it). PostgreSQL being
 * unreachable fails the tests; set TASKHUB_TEST_SKIP_POSTGRES=1 to leave it out knowingly.
 */
export type Engine = 'sqlite' | 'postgres';

export const SKIP_POSTGRES = process.env.TASKHUB_TEST_SKIP_POSTGRES === '1';
export const ENGINES: Engine[] = SKIP_POSTGRES ? ['sqlite'] : ['sqlite', 'postgres'];

export interface TestStore {
  engine: Engine;
  store: TaskStore;
  events: EventBus;
  /** What openStore was given: more instances on the same data open this. */
  url: string;
  /** Background errors the store or bus reported (a healthy test has none). */
  errors: unknown[];
  close(): Promise<void>;
}

const suffix = () => randomBytes(6).toString('hex');

let fileDatabase: Promise<string> | undefined;

/** This test file's database (created on first use); its URL. */
export function postgresTestDatabase(): Promise<string> {
  fileDatabase ??= withClient(ADMIN_URL, async (admin) => {
    const name = `taskhub_test_${suffix()}`;
    try {
      // An ICU locale sorts text unlike SQLite ('B' after 'a'), so a query that forgets to
      // compare bytewise (COLLATE "C") orders differently and the contract suite notices.
      await admin.query(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`);
    } catch {
      await admin.query(`CREATE DATABASE ${name}`); // a server built without ICU
    }
    return databaseUrl(name);
  });
  return fileDatabase;
}

afterAll(async () => {
  if (!fileDatabase) return;
  const url = await fileDatabase.catch(() => undefined);
  if (!url) return;
  const name = new URL(url).pathname.slice(1);
  await withClient(ADMIN_URL, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
});

/** A fresh, empty, migrated store and its event bus. */
export async function openTestStore(engine: Engine): Promise<TestStore> {
  return engine === 'sqlite' ? openSqlite() : openPostgres();
}

async function openSqlite(): Promise<TestStore> {
  const dir = await mkdtemp(join(tmpdir(), 'taskhub-test-'));
  const url = join(dir, 'taskhub.db');
  const errors: unknown[] = [];
  const { store, events } = await openStore(url, { onError: (error) => errors.push(error) });
  return {
    engine: 'sqlite',
    store,
    events,
    url,
    errors,
    async close() {
      await store.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Each store gets its own schema in the file's database, so tests in one file start empty. */
async function openPostgres(): Promise<TestStore> {
  const database = await postgresTestDatabase();
  const schema = `s_${suffix()}`;
  await withClient(database, (client) => client.query(`CREATE SCHEMA ${schema}`));
  const url = new URL(database);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const errors: unknown[] = [];
  const { store, events } = await openStore(url.toString(), { onError: (error) => errors.push(error) });
  return {
    engine: 'postgres',
    store,
    events,
    url: url.toString(),
    errors,
    async close() {
      await store.close();
      await events.close();
      await withClient(database, (client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
    },
  };
}
