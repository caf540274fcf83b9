import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/**
 * The one schema of taskhub's settings, read once at start: defaults, then an optional
 * JSON config file (TASKHUB_CONFIG), then TASKHUB_* variables. The only reader of process.env.
 */
export interface Config {
  host: string;
  port: number;
  databaseUrl: string;
  dataDir: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Bearer token for the native /v1 API and workers; empty = no authentication. */
  apiToken: string;
  /** Bearer token for Mimir AIP's /api/worktasks*; empty = no authentication. */
  workerAuthToken: string;
  leaseMs: number;
  leaseCheckMs: number;
  retryDelayMs: number;
  /** Longest a claim may wait for work (long poll). */
  maxClaimWaitMs: number;
  /** A waiting claim re-reads the queue this often even if no notification woke it. */
  claimRecheckMs: number;
  /** `serve` also runs one worker in its own process, so a fresh install runs tasks at once. */
  localWorker: boolean;
  localWorkerConcurrency: number;
}

interface Setting {
  key: keyof Config;
  env: string;
  /** Read when `env` is unset: the name another system uses for the same setting. */
  fallbackEnv?: string;
  parse: (raw: string) => unknown;
  describe: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const text = (raw: string) => raw;
function integer(min: number, max: number) {
  return (raw: string) => {
    // Decimal digits only: Number() reads "" (an empty variable) as 0 (port 0: a random port),
    // and "0x1F90" or "1e3" as numbers nobody meant to write.
    const value = /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) throw new Error(`must be an integer from ${min} to ${max}`);
    return value;
  };
}
function boolean(raw: string): boolean {
  if (/^(1|true|yes|on)$/i.test(raw.trim())) return true;
  if (/^(0|false|no|off)$/i.test(raw.trim())) return false;
  throw new Error('must be 1 or 0 (true or false)');
}
function nonEmpty(raw: string) {
  if (raw.trim() === '') throw new Error('must not be empty');
  return raw;
}

const SETTINGS: Setting[] = [
  { key: 'host', env: 'TASKHUB_HOST', parse: nonEmpty, describe: 'address to listen on' },
  { key: 'port', env: 'TASKHUB_PORT', parse: integer(0, 65535), describe: 'port to listen on' },
  { key: 'databaseUrl', env: 'TASKHUB_DATABASE_URL', parse: nonEmpty, describe: 'SQLite file path, or postgres://…' },
  { key: 'dataDir', env: 'TASKHUB_DATA_DIR', parse: nonEmpty, describe: 'directory for blobs (results, artifacts)' },
  {
    key: 'logLevel',
    env: 'TASKHUB_LOG_LEVEL',
    parse: (raw) => {
      if (!LOG_LEVELS.includes(raw)) throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
      return raw;
    },
    describe: 'log level',
  },
  { key: 'apiToken', env: 'TASKHUB_API_TOKEN', parse: text, describe: 'Bearer token required by /v1 (empty: none)' },
  {
    key: 'workerAuthToken',
    env: 'TASKHUB_WORKER_AUTH_TOKEN',
    fallbackEnv: 'WORKER_AUTH_TOKEN',
    parse: text,
    describe: 'Bearer token required by /api/worktasks (else WORKER_AUTH_TOKEN; empty: none)',
  },
  { key: 'leaseMs', env: 'TASKHUB_LEASE_MS', parse: integer(100, 86_400_000), describe: 'task lease length' },
  { key: 'leaseCheckMs', env: 'TASKHUB_LEASE_CHECK_MS', parse: integer(10, 3_600_000), describe: 'how often expired leases are swept' },
  { key: 'retryDelayMs', env: 'TASKHUB_RETRY_DELAY_MS', parse: integer(0, 86_400_000), describe: 'retry back-off per retry' },
  { key: 'maxClaimWaitMs', env: 'TASKHUB_MAX_CLAIM_WAIT_MS', parse: integer(0, 600_000), describe: 'longest long poll' },
  {
    key: 'claimRecheckMs',
    env: 'TASKHUB_CLAIM_RECHECK_MS',
    parse: integer(10, 600_000),
    describe: 'a waiting claim re-reads the queue this often without a notification',
  },
  { key: 'localWorker', env: 'TASKHUB_LOCAL_WORKER', parse: boolean, describe: 'run a worker inside the server (0 turns it off)' },
  { key: 'localWorkerConcurrency', env: 'TASKHUB_LOCAL_WORKER_CONCURRENCY', parse: integer(1, 1000), describe: 'tasks the local worker runs at once' },
];

export const DEFAULTS: Config = {
  host: '127.0.0.1',
  port: 8080,
  databaseUrl: './data/taskhub.db',
  dataDir: './data/blobs',
  logLevel: 'info',
  apiToken: '',
  workerAuthToken: '',
  // 30 s lease, renewed by heartbeats every ~10 s: a lost worker's task is back in ≤ 30 s + one sweep.
  leaseMs: 30_000,
  leaseCheckMs: 1_000,
  // Mimir AIP delays a retry by retry_count minutes.
  retryDelayMs: 60_000,
  maxClaimWaitMs: 60_000,
  // Notifications wake a waiting claim within a millisecond; the re-check only bounds what a
  // lost notification (a dropped LISTEN connection) can cost.
  claimRecheckMs: 1_000,
  localWorker: true,
  localWorkerConcurrency: 4,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Reads the configuration; throws ConfigError naming every bad setting at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const raw: Record<string, string> = {};
  if (env.TASKHUB_CONFIG) {
    try {
      const file = JSON.parse(readFileSync(env.TASKHUB_CONFIG, 'utf8')) as Record<string, unknown>;
      for (const [key, value] of Object.entries(file)) {
        if (!SETTINGS.some((s) => s.key === key)) problems.push(`${env.TASKHUB_CONFIG}: unknown setting "${key}"`);
        else raw[key] = String(value);
      }
    } catch (error) {
      problems.push(`TASKHUB_CONFIG=${env.TASKHUB_CONFIG}: ${(error as Error).message}`);
    }
  }
  for (const setting of SETTINGS) {
    const value = env[setting.env] ?? (setting.fallbackEnv ? env[setting.fallbackEnv] : undefined);
    if (value !== undefined) raw[setting.key] = value;
  }
  const config: Record<string, unknown> = { ...DEFAULTS };
  for (const setting of SETTINGS) {
    const value = raw[setting.key];
    if (value === undefined) continue;
    try {
      config[setting.key] = setting.parse(value);
    } catch (error) {
      problems.push(`${setting.env}=${JSON.stringify(value)}: ${(error as Error).message} (${setting.describe})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return config as unknown as Config;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function describeSettings(): string {
  return SETTINGS.map((s) => `  ${s.env.padEnd(28)} ${s.describe} (default: ${JSON.stringify(DEFAULTS[s.key])})`).join('\n');
}
