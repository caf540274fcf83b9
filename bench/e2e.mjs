#!/usr/bin/env node
// End-to-end throughput of taskhub next to BullMQ, graphile-worker and pg-boss, in one run, on
// this machine: submit N no-op jobs, let W worker processes x concurrency C run them, time from
// the first submit until the store reports all of them completed. See bench/README.md.
// The peers are dev dependencies of bench/ only: `cd bench && npm install` first.
/* global AbortController -- Node's, not in the lint config's list of globals */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bullmq } from './peers/bullmq.mjs';
import { Cleanup } from './peers/cleanup.mjs';
import { graphileWorker } from './peers/graphile-worker.mjs';
import { pgBoss } from './peers/pg-boss.mjs';
import { AgentUnavailable, DEFAULT_DIST, taskhub } from './peers/taskhub.mjs';
import { printProfileSummary } from './profile-summary.mjs';
import { printTable } from './shared.mjs';

const HELP = `usage: node bench/e2e.mjs [--jobs=N] [--workers=N] [--concurrency=N] [--systems=LIST]
                         [--postgres[=URL]] [--redis=URL] [--pg-boss-batch=N] [--taskhub-prefetch=N] [--timeout=S] [--dist=DIR] [--profile]
  --jobs=N           jobs per system (default 20000)
  --workers=N        worker processes / taskhub agents per system (default 4)
  --concurrency=N    jobs in flight per worker process (default 10)
  --systems=LIST     some of bullmq,graphile-worker,pg-boss,taskhub (default all)
  --postgres[=URL]   also run taskhub on PostgreSQL; URL is the server for every PostgreSQL
                     database of the run (default postgres://postgres@127.0.0.1:5432/postgres)
  --redis=URL        BullMQ's Redis (default redis://127.0.0.1:6379)
  --pg-boss-batch=N  pg-boss batchSize per fetch (default 100)
  --taskhub-prefetch=N  tasks each taskhub agent claims ahead of free slots (default 500, as graphile-worker's localQueue)
  --timeout=S        hard limit per system, setup and cleanup aside (default 120)
  --dist=DIR         the taskhub build to run (default dist/)
  --profile          run taskhub's server and agents with --cpu-prof (bench/profiles/e2e-*) and
                     print the server's hottest functions`;

const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/postgres';
const SYSTEM_NAMES = ['bullmq', 'graphile-worker', 'pg-boss', 'taskhub'];

function parseOptions(argv) {
  const options = {
    jobs: 20_000,
    workers: 4,
    concurrency: 10,
    systems: new Set(SYSTEM_NAMES),
    taskhubOnPostgres: false,
    adminUrl: DEFAULT_POSTGRES,
    redisUrl: 'redis://127.0.0.1:6379',
    pgBossBatch: 100,
    taskhubPrefetch: 500,
    timeoutMs: 120_000,
    dist: DEFAULT_DIST,
    profile: false,
  };
  const counts = { '--jobs': 'jobs', '--workers': 'workers', '--concurrency': 'concurrency', '--pg-boss-batch': 'pgBossBatch', '--taskhub-prefetch': 'taskhubPrefetch' };
  for (const arg of argv) {
    const [key, value] = arg.split(/=(.*)/s);
    const number = Number(value);
    if (key in counts && Number.isSafeInteger(number) && number > 0) options[counts[key]] = number;
    else if (key === '--timeout' && number > 0) options.timeoutMs = number * 1000;
    else if (key === '--systems' && value && value.split(',').every((name) => SYSTEM_NAMES.includes(name))) options.systems = new Set(value.split(','));
    else if (key === '--postgres') {
      options.taskhubOnPostgres = true;
      options.adminUrl = value || DEFAULT_POSTGRES;
    } else if (key === '--redis' && value) options.redisUrl = value;
    else if (key === '--dist' && value) options.dist = path.resolve(value);
    else if (key === '--profile' && value === undefined) options.profile = true;
    else {
      console.log(HELP);
      process.exit(key === '--help' || key === '-h' ? 0 : 2);
    }
  }
  return options;
}

const options = parseOptions(process.argv.slice(2));
const cleanup = new Cleanup();

// After a stop (done, failed, timed out, interrupted) a run gets this long to reach its next
// abort check, so that a submit or a database creation in flight is done before the cleanup
// and nothing it created is left behind; a run stuck in a library call is cleaned up anyway.
const SETTLE_MS = 5_000;
let running = null;
let interrupted = null;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A second signal exits at once; the children are killed on exit (peers/child.mjs).
    if (interrupted) process.exit(130);
    interrupted = signal;
    console.error(`\n${signal}: stopping and cleaning up`);
    running?.abort(new Error(`interrupted by ${signal}`));
  });
}

const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '-');

/** Runs one system with a hard timeout; its cleanup runs whatever happened. */
async function runSystem(system) {
  const controller = new AbortController();
  running = controller;
  const status = { text: 'starting' };
  const timer = setTimeout(() => controller.abort(new Error(`timed out after ${options.timeoutMs / 1000} s (${status.text})`)), options.timeoutMs);
  const stopped = new Promise((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  const work = system.run({ ...options, cleanup, signal: controller.signal, status });
  // Whichever loses the race below must not become an unhandled rejection.
  work.catch(() => {});
  stopped.catch(() => {});
  try {
    return await Promise.race([work, stopped]);
  } finally {
    clearTimeout(timer);
    running = null;
    controller.abort(new Error('stopped'));
    await Promise.race([work.catch(() => {}), sleep(SETTLE_MS)]);
    await cleanup.run();
  }
}

async function main() {
  const cli = path.join(options.dist, 'cli', 'main.js');
  if (options.systems.has('taskhub') && !existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const systems = [
    ['bullmq', bullmq],
    ['graphile-worker', graphileWorker],
    ['pg-boss', pgBoss],
    ['taskhub', taskhub('sqlite')],
    ...(options.taskhubOnPostgres ? [['taskhub', taskhub('postgres')]] : []),
  ].filter(([key]) => options.systems.has(key));

  const cpus = os.cpus();
  console.log(`taskhub end-to-end benchmark: ${fmt(options.jobs)} jobs per system, ${options.workers} worker processes x concurrency ${options.concurrency}`);
  console.log(`machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, node ${process.version}, load average (1 min) ${fmt(os.loadavg()[0], 2)}`);
  console.log('note: servers, workers and the submitting process share these CPUs; compare figures of the same run');

  const results = [];
  let failed = false;
  for (const [, system] of systems) {
    if (interrupted) break;
    console.log(`\n[${system.name}] ${system.settings(options)}`);
    try {
      const { seconds, submitSeconds, cpu } = await runSystem(system);
      results.push({ system, seconds, rate: options.jobs / seconds });
      console.log(`  submitted in ${fmt(submitSeconds, 2)} s, all completed after ${fmt(seconds, 2)} s: ${fmt(options.jobs / seconds)} jobs/s`);
      console.log(`  CPU a job (us): ${cpu.map(({ label, microsPerJob }) => `${label} ${fmt(microsPerJob, 1)}`).join(', ')}`);
      if (options.profile && system.profile) printProfileSummary(system.profile);
    } catch (error) {
      const unavailable = error instanceof AgentUnavailable;
      failed ||= !unavailable;
      results.push({ system, note: unavailable ? 'agent not available' : 'FAILED' });
      console.error(unavailable ? '  taskhub: agent not available' : `  FAILED: ${error instanceof Error ? error.message : error}`);
    }
  }

  const isTaskhub = (result) => result.system.name.startsWith('taskhub');
  const peers = results.filter((result) => !isTaskhub(result) && result.rate);
  const best = peers.reduce((a, b) => (b.rate > a.rate ? b : a), peers[0]);
  console.log(`\nSummary (load average ${fmt(os.loadavg()[0], 2)} after)`);
  printTable(
    ['system', 'jobs', 'seconds', 'jobs/s'],
    results.map(({ system, seconds, rate, note }) => [system.name, fmt(options.jobs), fmt(seconds, 2), rate ? fmt(rate) : note]),
  );
  for (const result of results.filter(isTaskhub)) {
    if (!result.rate) console.log(`${result.system.name}: ${result.note}`);
    else if (best) {
      const ratio = result.rate / best.rate;
      console.log(`${result.system.name} / best peer (${best.system.name}): ${fmt(ratio, 2)}  (target >= 1: ${ratio >= 1 ? 'ok' : 'MISSED'})`);
    }
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(interrupted ? 130 : code),
  async (error) => {
    console.error('FAILED:', error instanceof Error ? error.stack : error);
    await cleanup.run();
    process.exit(1);
  },
);
