import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../src/store/postgres/migrations/index.js';
import { SQLITE_MIGRATIONS } from '../src/store/sqlite/migrations/index.js';
import { killAllChildren, runCli, startChildServer, stopChild } from './helpers/child-server.js';
import { SKIP_POSTGRES } from './helpers/databases.js';
import { createScratchDatabase } from './helpers/scratch-database.js';

/** The `taskhub` command as users run it: `node dist/cli/main.js …` in a child process. */
const dir = mkdtempSync(join(tmpdir(), 'taskhub-cli-'));
afterAll(() => {
  killAllChildren();
  rmSync(dir, { recursive: true, force: true });
});

/** Every TASKHUB_* setting src/config.ts reads, from its source, so that a new one is checked too. */
const CONFIG_SOURCE = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'config.ts'), 'utf8');
const SETTINGS = [...CONFIG_SOURCE.matchAll(/env: '(TASKHUB_[A-Z_]+)'/g)].map((match) => match[1]!);

describe('taskhub --help', () => {
  it('prints the usage and every TASKHUB_ setting with its default', async () => {
    expect(SETTINGS.length).toBeGreaterThanOrEqual(10);
    const help = runCli(['--help'], {});
    expect(await help.exited).toEqual({ code: 0, signal: null });
    expect(help.stdout).toMatch(/Usage:/);
    expect(help.stdout).toMatch(/taskhub serve/);
    expect(help.stdout).toMatch(/taskhub migrate/);
    expect(help.stdout).toMatch(/TASKHUB_CONFIG/);
    for (const setting of SETTINGS) {
      const line = help.stdout.split('\n').find((l) => l.trim().startsWith(`${setting} `));
      expect(line, `${setting} is not in --help`).toBeDefined();
      expect(line).toMatch(/\(default: .*\)$/);
    }
    expect(help.stderr).toBe('');
  });

  it('answers -h and help the same way, even with a bad configuration', async () => {
    const reference = runCli(['--help'], {});
    await reference.exited;
    for (const flag of ['-h', 'help']) {
      const help = runCli([flag], { TASKHUB_PORT: 'abc' });
      expect(await help.exited).toEqual({ code: 0, signal: null });
      expect(help.stdout).toBe(reference.stdout);
    }
  });

  it('refuses an unknown command with exit 2 and the usage', async () => {
    const wrong = runCli(['serv'], { TASKHUB_DATABASE_URL: join(dir, 'never.db') });
    expect((await wrong.exited).code).toBe(2);
    expect(wrong.stderr).toMatch(/unknown command "serv"/);
    expect(wrong.stderr).toMatch(/Usage:/);
    expect(existsSync(join(dir, 'never.db'))).toBe(false);
  });
});

describe('a bad configuration', () => {
  it('exits 2 naming every bad setting at once, before opening anything', async () => {
    const databaseUrl = join(dir, 'bad-config', 'taskhub.db');
    const child = runCli(['serve'], { TASKHUB_PORT: 'abc', TASKHUB_LOG_LEVEL: 'loud', TASKHUB_DATABASE_URL: databaseUrl });
    expect(await child.exited).toEqual({ code: 2, signal: null });
    expect(child.stderr).toMatch(/invalid configuration/);
    expect(child.stderr).toMatch(/TASKHUB_PORT="abc": must be an integer from 0 to 65535/);
    expect(child.stderr).toMatch(/TASKHUB_LOG_LEVEL="loud": must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(child.stdout).toBe('');
    expect(existsSync(databaseUrl)).toBe(false);
  });

  it('reads numbers as decimal integers only: an empty TASKHUB_PORT is not port 0', async () => {
    for (const [name, value] of [
      ['TASKHUB_PORT', ''],
      ['TASKHUB_PORT', '0x1F90'],
      ['TASKHUB_LEASE_MS', '1e4'],
      ['TASKHUB_MAX_CLAIM_WAIT_MS', '12.5'],
    ]) {
      const child = runCli(['migrate'], { [name!]: value!, TASKHUB_DATABASE_URL: join(dir, 'never3.db') });
      expect((await child.exited).code, `${name}=${JSON.stringify(value)}`).toBe(2);
      expect(child.stderr).toContain(`${name}=${JSON.stringify(value)}: must be an integer`);
    }
    expect(existsSync(join(dir, 'never3.db'))).toBe(false);
  });

  it('names a config file problem alongside the variables', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({ port: 8081, leaseMz: 5 }));
    const child = runCli(['migrate'], { TASKHUB_CONFIG: file, TASKHUB_LEASE_MS: '5', TASKHUB_DATABASE_URL: join(dir, 'never2.db') });
    expect((await child.exited).code).toBe(2);
    expect(child.stderr).toMatch(/unknown setting "leaseMz"/);
    expect(child.stderr).toMatch(/TASKHUB_LEASE_MS="5": must be an integer from 100/);
    expect(existsSync(join(dir, 'never2.db'))).toBe(false);
  });
});

describe('taskhub migrate', () => {
  it('applies the migrations to a fresh SQLite file once, then none', async () => {
    const databaseUrl = join(dir, 'migrate', 'nested', 'taskhub.db');
    const first = runCli(['migrate'], { TASKHUB_DATABASE_URL: databaseUrl });
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stdout.trim()).toBe(`applied ${SQLITE_MIGRATIONS.length} migration(s)`);
    expect(SQLITE_MIGRATIONS.length).toBeGreaterThanOrEqual(1);
    expect(existsSync(databaseUrl)).toBe(true);
    const second = runCli(['migrate'], { TASKHUB_DATABASE_URL: databaseUrl });
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.stdout.trim()).toBe('applied 0 migration(s)');
  });

  it.skipIf(SKIP_POSTGRES)('applies the migrations to a fresh PostgreSQL database once, then none', async () => {
    const scratch = await createScratchDatabase('postgres', 'taskhub_cli');
    try {
      const env = { TASKHUB_DATABASE_URL: scratch.databaseUrl };
      const first = runCli(['migrate'], env);
      expect(await first.exited, first.stderr).toEqual({ code: 0, signal: null });
      expect(first.stdout.trim()).toBe(`applied ${POSTGRES_MIGRATIONS.length} migration(s)`);
      const second = runCli(['migrate'], env);
      expect(await second.exited).toEqual({ code: 0, signal: null });
      expect(second.stdout.trim()).toBe('applied 0 migration(s)');
    } finally {
      await scratch.drop();
    }
  });

  it('exits 1 with the reason when the database cannot be reached', async () => {
    const child = runCli(['migrate'], { TASKHUB_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' });
    expect((await child.exited).code).toBe(1);
    expect(child.stderr).toMatch(/ECONNREFUSED|connect/i);
  });
});

describe('taskhub serve on a public address', () => {
  const env = (extra: Record<string, string>) => ({
    TASKHUB_DATABASE_URL: join(dir, `serve-${Object.keys(extra).join('-') || 'plain'}.db`),
    TASKHUB_DATA_DIR: join(dir, 'blobs'),
    ...extra,
  });

  it('warns when listening on 0.0.0.0 without TASKHUB_API_TOKEN', async () => {
    const server = await startChildServer(env({ TASKHUB_HOST: '0.0.0.0' }));
    try {
      expect(server.stderr).toMatch(/WARNING: listening on 0\.0\.0\.0 with no authentication/);
      expect(server.stderr).toMatch(/Set TASKHUB_API_TOKEN/);
      // Anyone who reaches the port can indeed submit.
      const submitted = await fetch(`${server.url}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(submitted.status).toBe(201);
    } finally {
      expect(await stopChild(server)).toMatchObject({ code: 0, forced: false });
    }
  });

  it('does not warn with a token (which /v1 then requires), nor on loopback', async () => {
    const guarded = await startChildServer(env({ TASKHUB_HOST: '0.0.0.0', TASKHUB_API_TOKEN: 's3cret' }));
    try {
      expect(guarded.stderr).not.toMatch(/WARNING/);
      expect((await fetch(`${guarded.url}/v1/tasks`)).status).toBe(401);
      const authorized = await fetch(`${guarded.url}/v1/tasks`, { headers: { authorization: 'Bearer s3cret' } });
      expect(authorized.status).toBe(200);
    } finally {
      expect(await stopChild(guarded)).toMatchObject({ code: 0, forced: false });
    }
    const loopback = await startChildServer(env({ TASKHUB_HOST: '127.0.0.1' }));
    try {
      expect(loopback.stderr).not.toMatch(/WARNING/);
    } finally {
      expect(await stopChild(loopback)).toMatchObject({ code: 0, forced: false });
    }
  });
});
