import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS, type Config } from '../../src/config.js';
import pg from 'pg';
import { startServer, type RunningServer } from '../../src/main.js';
import { postgresTestDatabase, type Engine } from './databases.js';

/** A real server on a loopback port with a fresh SQLite file (or the given database URL). */
export async function startTestServer(overrides: Partial<Config> = {}): Promise<RunningServer & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'taskhub-test-'));
  const server = await startServer({
    ...DEFAULTS,
    host: '127.0.0.1',
    port: 0,
    databaseUrl: join(dir, 'taskhub.db'),
    dataDir: join(dir, 'blobs'),
    logLevel: 'silent',
    // Tests that want a worker start one; a worker of its own would claim every test's tasks.
    localWorker: false,
    ...overrides,
  });
  return Object.assign(server, { dir });
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
}

/** fetch with a JSON body; answers the status and the parsed body. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** Settings that put a test server on a fresh, empty database of the engine. */
export async function databaseFor(engine: Engine): Promise<Partial<Config>> {
  if (engine === 'sqlite') return {};
  const database = await postgresTestDatabase();
  const schema = `s_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`).finally(() => client.end());
  const url = new URL(database);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { databaseUrl: url.toString() };
}
