import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Engine } from './databases.js';

const ADMIN_URL = process.env.TASKHUB_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Files and a database for a child server: a temp directory (blobs, and the SQLite file),
 * and on PostgreSQL a database of its own, `CREATE DATABASE <prefix>_<random>`, dropped
 * WITH (FORCE) by drop() even if a killed server left connections behind.
 */
export interface ScratchDatabase {
  engine: Engine;
  dir: string;
  databaseUrl: string;
  /** TASKHUB_DATABASE_URL and TASKHUB_DATA_DIR for the child. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

async function admin<T>(use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(engine: Engine, prefix: string): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  let databaseUrl = join(dir, 'taskhub.db');
  let name: string | undefined;
  if (engine === 'postgres') {
    name = `${prefix}_${randomBytes(6).toString('hex')}`;
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
  }
  return {
    engine,
    dir,
    databaseUrl,
    env: { TASKHUB_DATABASE_URL: databaseUrl, TASKHUB_DATA_DIR: join(dir, 'blobs') },
    async drop() {
      try {
        if (name) await admin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
