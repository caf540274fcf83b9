#!/usr/bin/env node
// Core benchmark of taskhub: `npm run bench` (builds first), or `node bench/core.mjs [options]`.
// Starts its own servers as child processes on 127.0.0.1 (free ports, fresh temp databases),
// runs bounded phases, prints the figures and stops. See bench/README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { HttpClient, expectStatus } from './http-client.mjs';
import { adminQuery as adminQueryOn, freePort, printTable, processCpuMs, taskhubNodeFlags, taskhubServerEnv } from './shared.mjs';
import { printProfileSummary } from './profile-summary.mjs';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH_DIR, '..');

// ---------------------------------------------------------------- options

const HELP = `usage: node bench/core.mjs [--postgres[=URL]] [--duration=S] [--phases=1,2,3,4,5] [--profile] [--dist=DIR]
  --postgres      run taskhub on PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres;
                  a fresh database is created per server and dropped afterwards)
  --duration=S    measured seconds per throughput phase (default 5; a 1 s warm-up comes first)
  --phases=LIST   run only these phases
  --profile       run the taskhub servers with --cpu-prof and print their hottest functions
  --dist=DIR      run the taskhub build in DIR (default dist/): A/B runs of two builds`;

const options = { postgres: null, duration: 5, phases: new Set([1, 2, 3, 4, 5]), profile: false, dist: path.join(ROOT, 'dist') };
for (const arg of process.argv.slice(2)) {
  const [key, value] = arg.split(/=(.*)/s);
  if (key === '--postgres') options.postgres = value || 'postgres://postgres@127.0.0.1:5432/postgres';
  else if (key === '--duration' && Number(value) > 0) options.duration = Number(value);
  else if (key === '--phases' && value) options.phases = new Set(value.split(',').map(Number));
  else if (key === '--profile') options.profile = true;
  else if (key === '--dist' && value) options.dist = path.resolve(value);
  else {
    console.log(HELP);
    process.exit(key === '--help' || key === '-h' ? 0 : 2);
  }
}
const CLI = path.join(options.dist, 'cli', 'main.js');
const ENGINE = options.postgres ? 'postgres' : 'sqlite';
const WARMUP_S = 1;
const HARD_TIMEOUT_MS = 240_000;

const TASK = { name: 'bench', type: 'ml_inference', input: { text: 'hello' }, resources: { cpu: '500m', memory: '1Gi' } };
const TASK_BODY = JSON.stringify(TASK);
const BATCH_SIZE = 100;
const BATCH_BODY = JSON.stringify({ tasks: Array.from({ length: BATCH_SIZE }, () => TASK) });
const WORKER_RESOURCES = { cpu: '64', memory: '512Gi' };

// ---------------------------------------------------------------- process hygiene

const TMP = mkdtempSync(path.join(os.tmpdir(), 'taskhub-bench-'));
const PROFILE_DIR = path.join(ROOT, 'bench', 'profiles');
const children = new Set();
const databasesToDrop = new Set();

function killChildrenNow() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
process.on('exit', () => {
  killChildrenNow();
  rmSync(TMP, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping`);
    killChildrenNow();
    dropDatabases().finally(() => process.exit(130));
  });
}
const watchdog = setTimeout(() => {
  console.error(`\nFAILED: the benchmark ran longer than ${HARD_TIMEOUT_MS / 1000} s`);
  process.exit(1);
}, HARD_TIMEOUT_MS);
watchdog.unref();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Spawns a child; its output goes to our stderr with a prefix (only the first lines). */
function spawnChild(label, args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let shown = 0;
  let hidden = 0;
  const relay = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (shown++ < 20) process.stderr.write(`  [${label}] ${line}\n`);
      else hidden++;
    }
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.exited.then(({ code, signal }) => {
    children.delete(child);
    if (hidden) process.stderr.write(`  [${label}] (${hidden} more lines not shown)\n`);
    if (!child.stopping) process.stderr.write(`  [${label}] exited unexpectedly: code ${code} signal ${signal}\n`);
  });
  child.label = label;
  return child;
}

async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stopping = true;
  child.kill('SIGTERM');
  const stopped = await Promise.race([child.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!stopped) {
    console.error(`  [${child.label}] did not stop within 10 s of SIGTERM: killing it`);
    child.kill('SIGKILL');
    await child.exited;
  }
}

function assertAlive(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`${child.label} died (code ${child.exitCode}, signal ${child.signalCode})`);
  }
}

async function waitForHealth(child, url) {
  const deadline = Date.now() + 20_000;
  const client = new HttpClient(url);
  try {
    for (;;) {
      assertAlive(child);
      try {
        const response = await client.request('GET', '/health');
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`${child.label} did not answer ${url}/health within 20 s`);
      await sleep(50);
    }
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------- servers

const adminQuery = (sql) => adminQueryOn(options.postgres, sql);

async function dropDatabases() {
  for (const name of [...databasesToDrop]) {
    try {
      await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      databasesToDrop.delete(name);
    } catch (error) {
      console.error(`could not drop database ${name}: ${error.message}`);
    }
  }
}

let serverCount = 0;
/** A fresh taskhub child process on a fresh database. */
async function startTaskhub(label) {
  serverCount += 1;
  const dir = path.join(TMP, `${serverCount}-${label}`);
  mkdirSync(dir, { recursive: true });
  let databaseUrl;
  let database = null;
  if (options.postgres) {
    database = `taskhub_bench_${process.pid}_${serverCount}`;
    await adminQuery(`CREATE DATABASE "${database}"`);
    databasesToDrop.add(database);
    const url = new URL(options.postgres);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  } else {
    databaseUrl = path.join(dir, 'taskhub.db');
  }
  const port = await freePort();
  const env = taskhubServerEnv({ port, databaseUrl, dir });
  const nodeArgs = taskhubNodeFlags(CLI);
  if (options.profile) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${ENGINE}-${serverCount}-${label}.cpuprofile`);
  }
  const child = spawnChild(`taskhub:${label}`, [...nodeArgs, CLI, 'serve'], env);
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(child, url);
  return {
    url,
    child,
    profile: options.profile ? path.join(PROFILE_DIR, `${ENGINE}-${serverCount}-${label}.cpuprofile`) : null,
    async stop() {
      await stopChild(child);
      if (database) {
        await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        databasesToDrop.delete(database);
      }
    },
  };
}

async function startBareFastify() {
  const port = await freePort();
  const child = spawnChild('bare-fastify', [path.join(BENCH_DIR, 'bare-fastify.mjs')], { ...process.env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(child, url);
  return { url, child, stop: () => stopChild(child) };
}

// ---------------------------------------------------------------- measuring

const fmt = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/** Errors seen by any phase; a non-empty list makes the exit code 1. */
const failures = [];
/** [figure, value, target, verdict] rows of the final summary. */
const summary = [];

function record(figure, value, target = '', met = null) {
  summary.push([figure, value, target, met === null ? '' : met ? 'ok' : 'MISSED']);
}

/**
 * Runs autocannon (warm-up, then the measured run) and checks that every answer was 2xx.
 * `server` is the child process whose CPU time per request is measured.
 */
async function load(what, { url, body, connections, server }) {
  const base = {
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    pipelining: 1,
  };
  const warm = await autocannon({ ...base, duration: WARMUP_S });
  const cpuBefore = processCpuMs(server.pid);
  const result = await autocannon({ ...base, duration: options.duration });
  const serverCpuMs = processCpuMs(server.pid) - cpuBefore;
  const bad = {
    non2xx: warm.non2xx + result.non2xx,
    errors: warm.errors + result.errors,
    timeouts: warm.timeouts + result.timeouts,
  };
  if (bad.non2xx || bad.errors || bad.timeouts) {
    failures.push(`${what}: ${bad.non2xx} non-2xx, ${bad.errors} errors, ${bad.timeouts} timeouts (status codes ${JSON.stringify(result.statusCodeStats)})`);
  }
  return {
    rps: result.requests.total / result.duration,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    cpuUsPerRequest: (serverCpuMs * 1000) / result.requests.total,
    ...bad,
  };
}

// ---------------------------------------------------------------- phases

const figures = {};

async function phaseBare() {
  console.log(`\n[1] bare Fastify baseline: POST /echo, 50 connections, ${options.duration} s`);
  const server = await startBareFastify();
  try {
    const r = await load('phase 1 (bare Fastify)', { url: `${server.url}/echo`, body: TASK_BODY, connections: 50, server: server.child });
    assertAlive(server.child);
    figures.bareRps = r.rps;
    figures.bareCpuUs = r.cpuUsPerRequest;
    printTable(
      ['figure', 'value'],
      [
        ['req/s', fmt(r.rps)],
        ['latency p50 / p99 (ms)', `${r.p50} / ${r.p99}`],
        ['server CPU per request (us)', fmt(r.cpuUsPerRequest, 1)],
        ['non-2xx / errors / timeouts', `${r.non2xx} / ${r.errors} / ${r.timeouts}`],
      ],
    );
    record('1. bare Fastify POST /echo (req/s)', fmt(r.rps));
    record('1. server CPU per request (us)', fmt(r.cpuUsPerRequest, 1));
  } finally {
    await server.stop();
  }
}

async function phaseSubmit() {
  console.log(`\n[2] single-task submissions: POST /v1/tasks, 50 connections, ${options.duration} s`);
  const server = await startTaskhub('submit');
  try {
    const r = await load('phase 2 (POST /v1/tasks)', { url: `${server.url}/v1/tasks`, body: TASK_BODY, connections: 50, server: server.child });
    assertAlive(server.child);
    figures.submitRps = r.rps;
    const ratio = figures.bareRps ? r.rps / figures.bareRps : NaN;
    // The same ratio from CPU time: what the throughput ratio would be if the server's CPU were
    // the only limit, and far less moved by other work on the machine.
    const cpuRatio = figures.bareCpuUs ? figures.bareCpuUs / r.cpuUsPerRequest : NaN;
    printTable(
      ['figure', 'value'],
      [
        ['submissions/s', fmt(r.rps)],
        ['latency p50 / p99 (ms)', `${r.p50} / ${r.p99}`],
        ['server CPU per request (us)', fmt(r.cpuUsPerRequest, 1)],
        ['non-2xx / errors / timeouts', `${r.non2xx} / ${r.errors} / ${r.timeouts}`],
        ['ratio to bare Fastify (target >= 0.8)', fmt(ratio, 2)],
        ['CPU ratio: bare Fastify CPU / taskhub CPU per request', fmt(cpuRatio, 2)],
      ],
    );
    record('2. POST /v1/tasks (req/s)', fmt(r.rps));
    record('2. latency p50 / p99 (ms)', `${r.p50} / ${r.p99}`);
    record('2. server CPU per request (us)', fmt(r.cpuUsPerRequest, 1));
    record('2. CPU ratio to bare Fastify', fmt(cpuRatio, 2));
    record('2. non-2xx responses', String(r.non2xx), '0', r.non2xx === 0);
    record('2. ratio to bare Fastify', fmt(ratio, 2), '>= 0.8', Number.isNaN(ratio) ? null : ratio >= 0.8);
  } finally {
    await server.stop();
    if (server.profile) printProfileSummary(server.profile);
  }
}

async function phaseBatch() {
  const connections = 8;
  console.log(`\n[3] batch submissions: POST /v1/tasks/batch (${BATCH_SIZE} tasks), ${connections} connections, ${options.duration} s`);
  const server = await startTaskhub('batch');
  try {
    const r = await load('phase 3 (POST /v1/tasks/batch)', { url: `${server.url}/v1/tasks/batch`, body: BATCH_BODY, connections, server: server.child });
    assertAlive(server.child);
    const tasksPerSecond = r.rps * BATCH_SIZE;
    const target = ENGINE === 'sqlite' ? 100_000 : null;
    printTable(
      ['figure', 'value'],
      [
        ['requests/s', fmt(r.rps)],
        [`tasks/s (target >= 100,000 on SQLite)`, fmt(tasksPerSecond)],
        ['latency p50 / p99 (ms)', `${r.p50} / ${r.p99}`],
        ['server CPU per task (us)', fmt(r.cpuUsPerRequest / BATCH_SIZE, 1)],
        ['non-2xx / errors / timeouts', `${r.non2xx} / ${r.errors} / ${r.timeouts}`],
      ],
    );
    record(`3. batch of ${BATCH_SIZE} (tasks/s)`, fmt(tasksPerSecond), target ? '>= 100,000' : '', target ? tasksPerSecond >= target : null);
    record('3. batch latency p50 / p99 (ms)', `${r.p50} / ${r.p99}`);
    record('3. server CPU per task (us)', fmt(r.cpuUsPerRequest / BATCH_SIZE, 1));
  } finally {
    await server.stop();
    if (server.profile) printProfileSummary(server.profile);
  }
}

async function preload(url, count) {
  const client = new HttpClient(url, { maxSockets: 4 });
  const body = JSON.stringify({ tasks: Array.from({ length: 1000 }, () => TASK) });
  let sent = 0;
  const started = process.hrtime.bigint();
  const lane = async () => {
    while (sent < count) {
      sent += 1000;
      expectStatus(await client.request('POST', '/v1/tasks/batch', body), 201, 'preload batch');
    }
  };
  try {
    await Promise.all([lane(), lane(), lane(), lane()]);
  } finally {
    client.close();
  }
  return { count: sent, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function countCompleted(client) {
  return expectStatus(await client.request('GET', '/v1/tasks?status=completed&limit=1'), 200, 'GET /v1/tasks?status=completed').total;
}

async function runAgents(url, workerIds, mode, batchSize, durationMs) {
  const agents = workerIds.map(
    (workerId) => new Worker(new URL('./claim-agent.mjs', import.meta.url), { workerData: { url, workerId, mode, batchSize } }),
  );
  try {
    const results = await new Promise((resolve, reject) => {
      let ready = 0;
      const done = [];
      for (const agent of agents) {
        agent.on('error', reject);
        agent.on('message', (message) => {
          if (message.type === 'ready' && ++ready === agents.length) {
            for (const a of agents) a.postMessage({ type: 'go', durationMs });
          } else if (message.type === 'done') {
            done.push(message.result);
            if (done.length === agents.length) resolve(done);
          }
        });
      }
    });
    return results;
  } finally {
    await Promise.all(agents.map((agent) => agent.terminate()));
  }
}

async function phaseClaim() {
  const workers = 4;
  const durationMs = options.duration * 1000;
  console.log(`\n[4] claim -> report with ${workers} workers (worker threads), ${options.duration} s per variant`);
  const server = await startTaskhub('claim');
  const client = new HttpClient(server.url);
  try {
    const workerIds = [];
    for (let i = 0; i < workers; i++) {
      const body = { name: `bench-worker-${i}`, queues: ['default'], resources: WORKER_RESOURCES };
      workerIds.push(expectStatus(await client.request('POST', '/v1/workers', body), 201, 'register worker').worker.id);
    }
    const rows = [];
    let expectedCompleted = 0;
    const variants = [
      { mode: 'single', batchSize: 1, label: 'claim {limit:1} -> report' },
      { mode: 'batch', batchSize: 50, label: 'claim {limit:50} -> reports x50' },
    ];
    // Enough queued tasks that the loops never run dry: 20 000 for the single variant; for the
    // batched one 20 x what the single variant managed (clamped to 20 000..150 000).
    let singleRate = 0;
    for (const variant of variants) {
      const wanted = variant.mode === 'single' ? 20_000 : Math.min(150_000, Math.max(20_000, Math.ceil(singleRate * 20 * options.duration)));
      const loaded = await preload(server.url, wanted);
      console.log(`  ${variant.mode}: pre-loaded ${fmt(loaded.count)} queued tasks in ${fmt(loaded.seconds, 1)} s`);
      const cpuBefore = processCpuMs(server.child.pid);
      const results = await runAgents(server.url, workerIds, variant.mode, variant.batchSize, durationMs);
      const serverCpuMs = processCpuMs(server.child.pid) - cpuBefore;
      assertAlive(server.child);
      const tasks = results.reduce((sum, r) => sum + r.tasks, 0);
      const roundTrips = results.reduce((sum, r) => sum + r.roundTrips, 0);
      const seconds = Math.max(...results.map((r) => r.elapsedMs)) / 1000;
      const drained = results.filter((r) => r.drained).length;
      for (const r of results) if (r.error) failures.push(`phase 4 ${variant.mode} worker ${r.workerId}: ${r.error}`);
      if (drained) console.log(`  WARNING: ${drained} worker(s) found the queue empty before the deadline; pre-load more tasks`);
      expectedCompleted += tasks;
      const completed = await countCompleted(client);
      if (completed !== expectedCompleted) {
        failures.push(`phase 4 ${variant.mode}: server counts ${completed} completed tasks, the workers counted ${expectedCompleted}`);
      }
      const latencies = results.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
      const perWorker = results.map((r) => fmt(r.tasks / (r.elapsedMs / 1000))).join(' / ');
      rows.push([
        variant.label,
        fmt(roundTrips / seconds),
        fmt(tasks / seconds),
        `${fmt(percentile(latencies, 50) / 1000, 2)} / ${fmt(percentile(latencies, 99) / 1000, 2)}`,
        perWorker,
        fmt((serverCpuMs * 1000) / tasks, 1),
        `${completed} = ${expectedCompleted} ${completed === expectedCompleted ? 'ok' : 'MISMATCH'}`,
      ]);
      if (variant.mode === 'single') {
        singleRate = tasks / seconds;
        record('4. claim->report round trips/s (4 workers)', fmt(roundTrips / seconds));
      } else {
        record(`4. batched claim 50 -> reports 50 (tasks/s)`, fmt(tasks / seconds));
        record(`4. batched: server CPU per task (us)`, fmt((serverCpuMs * 1000) / tasks, 1));
      }
      record(`4. ${variant.mode}: completed count check`, `${completed} vs ${expectedCompleted}`, 'equal', completed === expectedCompleted);
    }
    printTable(['variant', 'round trips/s', 'tasks/s', 'round trip p50 / p99 (ms)', 'tasks/s per worker', 'server CPU per task (us)', 'completed (server = workers)'], rows);
  } finally {
    client.close();
    await server.stop();
    if (server.profile) printProfileSummary(server.profile);
  }
}

async function phasePickup() {
  const iterations = 500;
  const warmup = 50;
  const idleMs = 3;
  console.log(`\n[5] pickup latency of an idle long-polling worker: ${iterations} sequential submissions (+${warmup} warm-up)`);
  const server = await startTaskhub('pickup');
  const admin = new HttpClient(server.url);
  const claimer = new HttpClient(server.url);
  const submitter = new HttpClient(server.url);
  try {
    const body = { name: 'bench-pickup', queues: ['default'], resources: WORKER_RESOURCES };
    const workerId = expectStatus(await admin.request('POST', '/v1/workers', body), 201, 'register worker').worker.id;
    const claimPath = `/v1/workers/${encodeURIComponent(workerId)}/claim`;
    const claimBody = JSON.stringify({ limit: 1, waitMs: 30_000 });
    const pickup = [];
    const serverSide = [];
    let reversed = 0;
    for (let i = 0; i < warmup + iterations; i++) {
      const claimed = claimer.request('POST', claimPath, claimBody);
      await sleep(idleMs);
      const t0 = process.hrtime.bigint();
      const [submit, claim] = await Promise.all([submitter.request('POST', '/v1/tasks', TASK_BODY), claimed]);
      const task = expectStatus(submit, 201, 'submit');
      const claims = expectStatus(claim, 200, 'long-poll claim').claims;
      if (claims.length !== 1 || claims[0].task.id !== task.id) {
        throw new Error(`long-poll claim answered ${JSON.stringify(claims.map((c) => c.task.id))}, expected [${task.id}]`);
      }
      if (i < warmup) continue;
      pickup.push(Number(claim.tEnd - t0) / 1e6);
      const afterSubmit = Number(claim.tEnd - submit.tEnd) / 1e6;
      if (afterSubmit < 0) reversed++;
      serverSide.push(Math.max(0, afterSubmit));
    }
    assertAlive(server.child);
    pickup.sort((a, b) => a - b);
    serverSide.sort((a, b) => a - b);
    const row = (label, values) => [label, ...[50, 90, 99].map((p) => fmt(percentile(values, p), 3)), fmt(values.at(-1), 3)];
    printTable(
      ['ms', 'p50', 'p90', 'p99', 'max'],
      [row('submit sent -> claim answered', pickup), row('submit answered -> claim answered', serverSide)],
    );
    if (reversed) console.log(`  (${reversed} claim answers arrived before their submit answer; counted as 0 in the second row)`);
    const p50 = percentile(pickup, 50);
    const p99 = percentile(pickup, 99);
    record('5. pickup latency p50 (ms)', fmt(p50, 3), '<= 1', p50 <= 1);
    record('5. pickup latency p99 (ms)', fmt(p99, 3), '<= 5', p99 <= 5);
    record('5. pickup latency max (ms)', fmt(pickup.at(-1), 3));
    record('5. submit answered -> claim answered p50 / p99 (ms)', `${fmt(percentile(serverSide, 50), 3)} / ${fmt(percentile(serverSide, 99), 3)}`);
  } finally {
    admin.close();
    claimer.close();
    submitter.close();
    await server.stop();
    if (server.profile) printProfileSummary(server.profile);
  }
}

// ---------------------------------------------------------------- main

async function main() {
  if (!existsSync(CLI)) throw new Error(`${path.relative(ROOT, CLI)} is missing: run \`npm run build\` first (npm run bench does)`);
  const cpus = os.cpus();
  const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${fmt(os.totalmem() / 2 ** 30, 1)} GiB, node ${process.version}, ${os.platform()} ${os.release()}`;
  console.log(`taskhub core benchmark — ${ENGINE}${options.postgres ? ` (${options.postgres.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')})` : ''}`);
  console.log(`machine: ${machine}`);
  console.log('note: the load generator runs on the same machine and competes with the server for the CPUs');
  const load1 = os.loadavg()[0];
  console.log(`load average (1 min) before the run: ${fmt(load1, 2)}${load1 > cpus.length / 2 ? '  WARNING: the machine is busy; figures will be low and noisy' : ''}`);
  const started = Date.now();
  const phases = [
    [1, phaseBare],
    [2, phaseSubmit],
    [3, phaseBatch],
    [4, phaseClaim],
    [5, phasePickup],
  ];
  for (const [number, phase] of phases) {
    if (!options.phases.has(number)) continue;
    try {
      await phase();
    } catch (error) {
      failures.push(`phase ${number}: ${error instanceof Error ? error.message : String(error)}`);
      console.error(`  phase ${number} FAILED: ${error instanceof Error ? error.stack : error}`);
    }
  }
  console.log(`\nSummary (${ENGINE}, ${cpus.length} CPUs, node ${process.version}, ${fmt((Date.now() - started) / 1000, 1)} s, load average ${fmt(load1, 2)} before / ${fmt(os.loadavg()[0], 2)} after)`);
  printTable(['figure', 'value', 'target', ''], summary);
  if (options.profile) console.log(`\nCPU profiles: ${readdirSync(PROFILE_DIR).map((f) => path.join('bench/profiles', f)).join(', ')}`);
  if (failures.length) {
    console.error(`\nFAILED (${failures.length}):`);
    for (const failure of failures) console.error(`  - ${failure}`);
    return 1;
  }
  return 0;
}

main()
  .then(async (code) => {
    killChildrenNow();
    await dropDatabases();
    process.exit(code);
  })
  .catch(async (error) => {
    console.error('FAILED:', error instanceof Error ? error.stack : error);
    killChildrenNow();
    await dropDatabases();
    process.exit(1);
  });
