import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewTask, TaskStore } from '../src/core/ports.js';
import type { Task } from '../src/domain/task.js';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations/index.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations/index.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { ENGINES, postgresTestDatabase, type Engine } from './helpers/databases.js';
import { NOW, fullyPopulatedTask, queued } from './helpers/task-fixtures.js';

/**
 * Data written under an older schema reads back the same after the migrations that follow.
 * Migration 2 folded 29 task columns into `doc`: tasks are written here with the columns of
 * migration 1, as the store of that time wrote them, then opened with today's store.
 */
const JSON_COLUMNS = new Set(['tags', 'system_tags', 'input', 'containers', 'execution', 'hyperparams', 'configuration', 'requirements',
  'data_access', 'result', 'result_blobs', 'intermediate_results', 'cost_estimate', 'cost_actual', 'extra']);
const RESOURCE_COLUMNS = { cpu_millis: 'cpuMillis', memory_bytes: 'memoryBytes', gpu_count: 'gpuCount', gpu_memory_bytes: 'gpuMemoryBytes', max_execution_seconds: 'maxExecutionSeconds', executor: 'executor' } as const;

const snake = (field: string) => field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** A task as a row of migration 1's tasks table. */
function version1Row({ task, secrets }: NewTask): Record<string, string | number | null> {
  const row: Record<string, string | number | null> = {};
  for (const [field, value] of Object.entries(task)) {
    if (field === 'resources' || field === 'hasSecrets') continue;
    const column = snake(field);
    row[column] = JSON_COLUMNS.has(column) ? JSON.stringify(value) : (value as string | number | null);
  }
  for (const [column, field] of Object.entries(RESOURCE_COLUMNS)) row[column] = task.resources[field];
  row.has_secrets = task.hasSecrets ? 1 : 0;
  row.secrets = secrets && JSON.stringify(secrets);
  return row;
}

interface Version1Database {
  insert(rows: Array<Record<string, string | number | null>>): Promise<void>;
  /** Today's store on that database (applies the pending migrations). */
  open(): Promise<TaskStore>;
  drop(): Promise<void>;
}

async function version1Database(engine: Engine): Promise<Version1Database> {
  const migration1 = (engine === 'sqlite' ? SQLITE_MIGRATIONS : POSTGRES_MIGRATIONS).find((m) => m.version === 1)!;
  const record = 'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL); INSERT INTO schema_migrations VALUES (1, 0);';
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'taskhub-migrations-'));
    const path = join(dir, 'taskhub.db');
    const db = new Database(path);
    db.exec(migration1.sql + record);
    return {
      async insert(rows) {
        for (const row of rows) {
          const columns = Object.keys(row);
          db.prepare(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
        }
      },
      async open() {
        db.close();
        return new SqliteStore(path);
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `m_${randomBytes(6).toString('hex')}`;
  const url = new URL(await postgresTestDatabase());
  url.searchParams.set('options', `-c search_path=${schema}`);
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(migration1.sql + record);
  return {
    async insert(rows) {
      for (const row of rows) {
        const columns = Object.keys(row);
        await client.query(`INSERT INTO tasks (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row));
      }
    },
    open: () => PostgresStore.open(url.toString()),
    async drop() {
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

describe.each(ENGINES)('migrations keep stored tasks: %s', (engine) => {
  let database: Version1Database | undefined;
  let store: TaskStore | undefined;
  afterEach(async () => {
    await store?.close();
    await database?.drop();
  });

  it('reads every field of a task written before the tasks table was narrowed (migration 2)', async () => {
    database = await version1Database(engine);
    const full = fullyPopulatedTask();
    const plain = queued({ id: 'plain', input: { n: 0 }, extra: {} }, NOW + 1);
    const falsy: NewTask = { task: { ...queued({ id: 'falsy', input: false }).task, progress: 0, result: 0, comment: '' }, secrets: null };
    await database.insert([full, plain, falsy].map(version1Row));
    store = await database.open();
    const expected: Task[] = [{ ...full.task, hasSecrets: true }, plain.task, falsy.task];
    for (const task of expected) expect(await store.getTask(task.id)).toEqual(task);
    expect(await store.getSecrets('task-full')).toEqual(full.secrets);
    // And the migrated rows take part in what the new columns serve: filters, claims, patches.
    expect((await store.listTasks({ project: 'proj-1' }, { limit: 10, offset: 0 })).map((task) => task.id)).toEqual(['task-full']);
    const patched = await store.patchTask('plain', { tags: ['after'], result: { ok: true } }, NOW + 9);
    expect(patched).toEqual({ ...plain.task, tags: ['after'], result: { ok: true }, updatedAt: NOW + 9 });
  });
});
