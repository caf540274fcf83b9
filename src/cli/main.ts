#!/usr/bin/env -S node --max-semi-space-size=64
// V8's young generation at 64 MB instead of 16: a batch of tasks stays alive through its WAL
// flush, and at 16 MB the scavenges that copied it took 650 ms per 20,000 tasks end to end
// (bench/e2e.mjs), 397 ms at 64. `npm start` passes the same flag; bench/ reads it from here.
import { ConfigError, describeSettings, isLoopback, loadConfig, type Config } from '../config.js';
import { startServer } from '../main.js';
import { migrateDatabase } from '../store/open-store.js';
import { runWorker } from './worker-command.js';

const HELP = `taskhub — ML task orchestration server

Usage:
  taskhub serve      start the server (applies pending migrations first) and, unless
                     TASKHUB_LOCAL_WORKER=0, one worker in the same process
  taskhub worker     run tasks for a server (taskhub worker --help lists its flags)
  taskhub migrate    apply pending database migrations and exit
  taskhub --help     show this text

Settings (environment variables; TASKHUB_CONFIG names an optional JSON file with the same keys):
${describeSettings()}
`;

async function serve(config: Config): Promise<void> {
  if (!isLoopback(config.host) && config.apiToken === '') {
    console.warn(
      `WARNING: listening on ${config.host} with no authentication: anyone who can reach this port can submit and run tasks. Set TASKHUB_API_TOKEN.`,
    );
  }
  const server = await startServer(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down: finishing requests in flight');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('shutdown failed:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return 0;
  }
  // The worker has its own flags and never opens the server's database.
  if (command === 'worker') return runWorker(argv.slice(1));
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return 2;
  }
  switch (command) {
    case 'serve':
      await serve(config);
      return -1;
    case 'migrate': {
      const applied = await migrateDatabase(config.databaseUrl);
      console.log(`applied ${applied} migration(s)`);
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
