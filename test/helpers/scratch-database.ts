import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Engine } from './databases.js';
import { ADMIN_URL, databaseUrl, withClient } from './postgres-admin.js';

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

export async function createScratchDatabase(engine: Engine, prefix: string): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  let url = join(dir, 'taskhub.db');
  let name: string | undefined;
  if (engine === 'postgres') {
    name = `${prefix}_${randomBytes(6).toString('hex')}`;
    await withClient(ADMIN_URL, (client) => client.query(`CREATE DATABASE ${name}`));
    url = databaseUrl(name);
  }
  return {
    engine,
    dir,
    databaseUrl: url,
    env: { TASKHUB_DATABASE_URL: url, TASKHUB_DATA_DIR: join(dir, 'blobs') },
    async drop() {
      try {
        if (name) await withClient(ADMIN_URL, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
