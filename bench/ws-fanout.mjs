#!/usr/bin/env node
// WebSocket fan-out benchmark of taskhub's /ws/tasks: `npm run build && node bench/ws-fanout.mjs`.
// Starts the built server (dist/) as a child process on a free port and a fresh database,
// connects the subscribers from this process, changes task statuses over HTTP and measures
// how fast and how soon every subscriber hears of each change. See bench/README.md.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { HttpClient, expectStatus } from './http-client.mjs';
import { adminQuery as adminQueryOn, freePort, taskhubNodeFlags, taskhubServerEnv } from './shared.mjs';

const adminQuery = (sql) => adminQueryOn(options.postgres, sql);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const HELP = `usage: node bench/ws-fanout.mjs [--subscribers=N] [--changes=N] [--duration=S] [--postgres[=URL]]
  --subscribers=N  WebSocket clients on /ws/tasks (default 1000)
  --changes=N      phase 1: status changes made one at a time (default 300)
  --duration=S     phase 2: seconds of sustained batch submissions (default 5)
  --postgres       run taskhub on PostgreSQL (default postgres://postgres@127.0.0.1:5432/postgres;
                   a fresh database is created and dropped afterwards)`;

const options = { subscribers: 1000, changes: 300, duration: 5, postgres: null };
for (const arg of process.argv.slice(2)) {
  const [key, value] = arg.split(/=(.*)/s);
  if (key === '--subscribers' && Number(value) > 0) options.subscribers = Number(value);
  else if (key === '--changes' && Number(value) > 0) options.changes = Number(value);
  else if (key === '--duration' && Number(value) > 0) options.duration = Number(value);
  else if (key === '--postgres') options.postgres = value || 'postgres://postgres@127.0.0.1:5432/postgres';
  else {
    console.log(HELP);
    process.exit(key === '--help' || key === '-h' ? 0 : 2);
  }
}
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run \`npm run build\` first`);
  process.exit(2);
}

const TARGET_P99_MS = 50;
const BATCH_SIZE = 50;
// Phase 2 keeps at most this many changes not yet heard by every subscriber (~800 bytes each:
// ~800 KB per subscriber, well under the hub's 4 MiB allowance), so it measures what the
// subscribers can take, not how fast the server can drop them.
const WINDOW = 1_000;
const TMP = mkdtempSync(path.join(os.tmpdir(), 'taskhub-ws-bench-'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let child;
let database;

// ---------------------------------------------------------------- delays

/** Delays in 0.1 ms steps up to 10 s: exact enough for percentiles, constant memory. */
class Histogram {
  counts = new Uint32Array(100_001);
  total = 0;
  max = 0;
  add(ms) {
    this.counts[Math.min(this.counts.length - 1, Math.max(0, Math.round(ms * 10)))]++;
    this.total++;
    this.max = Math.max(this.max, ms);
  }
  percentile(p) {
    let seen = 0;
    const wanted = Math.ceil((p / 100) * this.total);
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= wanted) return i / 10;
    }
    return this.max;
  }
  summary() {
    return `p50 ${this.percentile(50).toFixed(1)} ms, p99 ${this.percentile(99).toFixed(1)} ms, max ${this.max.toFixed(1)} ms`;
  }
}

/** The field of the work task that holds the time of the change it announces. */
const CHANGED_AT = { queued: 'submitted_at', executing: 'started_at', completed: 'completed_at' };

/**
 * Every change is tagged `${mark}:${status}` (the mark travels in task_spec.input); each
 * subscriber finds the tag in the raw message with two indexOf calls instead of parsing it.
 * Delays are measured twice: from the change itself (the server's timestamp of it, read from
 * the first message of each change; taken just before its write, so the commit is in, in whole
 * milliseconds on the same clock) and from the moment the request that made it was sent.
 */
class Deliveries {
  sentAt = new Map();
  changedAt = new Map();
  remaining = new Map();
  waiters = new Map();
  fromChange = new Histogram();
  fromRequest = new Histogram();
  last = new Histogram();
  messages = 0;

  /** Changes heard by every subscriber, counting partly heard ones pro rata. */
  get delivered() {
    return this.messages / options.subscribers;
  }

  expect(tag, changes) {
    this.sentAt.set(tag, performance.now());
    this.remaining.set(tag, (this.remaining.get(tag) ?? 0) + changes * options.subscribers);
    return new Promise((resolve) => this.waiters.set(tag, resolve));
  }

  received(raw) {
    const at = performance.now();
    const tag = tagOf(raw);
    const sent = this.sentAt.get(tag);
    if (sent === undefined) throw new Error(`a message nobody sent: ${raw.toString().slice(0, 200)}`);
    let changed = this.changedAt.get(tag);
    if (changed === undefined) {
      const { task } = JSON.parse(raw.toString());
      changed = Date.parse(task[CHANGED_AT[task.status]]) - performance.timeOrigin;
      this.changedAt.set(tag, changed);
    }
    this.fromChange.add(at - changed);
    this.fromRequest.add(at - sent);
    this.messages++;
    const left = this.remaining.get(tag) - 1;
    this.remaining.set(tag, left);
    if (left === 0) {
      this.last.add(at - changed);
      this.changedAt.delete(tag);
      this.remaining.delete(tag);
      this.waiters.get(tag)();
      this.waiters.delete(tag);
    }
  }
}

// Searched as bytes: a string needle is converted to a Buffer on every call (11% of this process).
const STATUS = Buffer.from('"status":"');
const MARK = Buffer.from('"mark":');
const QUOTE = 0x22;

function tagOf(raw) {
  const statusAt = raw.indexOf(STATUS) + STATUS.length;
  const status = raw.toString('latin1', statusAt, raw.indexOf(QUOTE, statusAt));
  const markAt = raw.indexOf(MARK, statusAt) + MARK.length;
  return `${Number.parseInt(raw.toString('latin1', markAt, markAt + 12), 10)}:${status}`;
}

// ---------------------------------------------------------------- server and subscribers

async function startServer() {
  let databaseUrl = path.join(TMP, 'taskhub.db');
  if (options.postgres) {
    database = `taskhub_ws_bench_${process.pid}`;
    await adminQuery(`CREATE DATABASE "${database}"`);
    const url = new URL(options.postgres);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }
  const port = await freePort();
  const env = taskhubServerEnv({ port, databaseUrl, dir: TMP });
  child = spawn(process.execPath, [...taskhubNodeFlags(CLI), CLI, 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const client = new HttpClient(url);
  for (const deadline = Date.now() + 20_000; ; await sleep(50)) {
    if (child.exitCode !== null) throw new Error(`taskhub exited with code ${child.exitCode}`);
    const ready = await client.request('GET', '/ready').catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error('taskhub was not ready within 20 s');
  }
  client.close();
  return url;
}

async function connectSubscribers(url, deliveries) {
  const sockets = [];
  let dropped = 0;
  // 100 handshakes at a time: 1 000 at once overflows the listen backlog on small machines.
  for (let i = 0; i < options.subscribers; i += 100) {
    const group = Array.from({ length: Math.min(100, options.subscribers - i) }, () => {
      // The bench checks no text: it measures the server, not the client's UTF-8 validation.
      const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/tasks`, { skipUTF8Validation: true });
      socket.on('message', (raw) => deliveries.received(raw));
      socket.on('close', () => dropped++);
      return new Promise((resolve, reject) => socket.once('open', () => resolve(socket)).once('error', reject));
    });
    sockets.push(...(await Promise.all(group)));
  }
  return { sockets, dropped: () => dropped };
}

// ---------------------------------------------------------------- phases

/**
 * One change at a time, each heard by every subscriber before the next: the delay alone.
 * It is counted from the moment the request that makes the change is sent, so it includes
 * that request's own work (its commit); `requests` shows how long those took.
 */
async function phaseOne(url, deliveries, requests) {
  const client = new HttpClient(url);
  const send = async (path, body, status) => {
    const sent = performance.now();
    const answer = await client.request('POST', path, body);
    requests.add(performance.now() - sent);
    return expectStatus(answer, status, path);
  };
  let mark = 0;
  for (let made = 0; made < options.changes; mark++) {
    const body = { type: 'ml_inference', project_id: 'bench', task_spec: { input: { mark } } };
    let heard = deliveries.expect(`${mark}:queued`, 1);
    const id = (await send('/api/worktasks', body, 201)).worktask_id;
    await heard;
    made++;
    for (const status of ['executing', 'completed']) {
      if (made >= options.changes) break;
      heard = deliveries.expect(`${mark}:${status}`, 1);
      await send(`/api/worktasks/${id}`, { worktask_id: id, status }, 200);
      await heard;
      made++;
    }
  }
  client.close();
  return mark;
}

/** Batches of new tasks from two submitters, as fast as the subscribers keep up. */
async function phaseTwo(url, deliveries, firstMark) {
  let mark = firstMark;
  let sent = 0;
  const start = performance.now();
  const end = start + options.duration * 1000;
  const submitter = async () => {
    const client = new HttpClient(url);
    const pending = [];
    while (performance.now() < end) {
      if (sent - deliveries.delivered > WINDOW) {
        await sleep(1);
        continue;
      }
      const batchMark = mark++;
      const tasks = Array.from({ length: BATCH_SIZE }, () => ({ project: 'bench', input: { mark: batchMark } }));
      pending.push(deliveries.expect(`${batchMark}:queued`, BATCH_SIZE));
      sent += BATCH_SIZE;
      expectStatus(await client.request('POST', '/v1/tasks/batch', { tasks }), 201, 'batch');
    }
    await Promise.all(pending);
    client.close();
  };
  const before = deliveries.delivered;
  await Promise.all([submitter(), submitter()]);
  const seconds = (performance.now() - start) / 1000;
  return { changes: deliveries.delivered - before, seconds };
}

// ---------------------------------------------------------------- main

async function main() {
  console.log(`taskhub /ws/tasks fan-out: ${options.subscribers} subscribers, ${options.postgres ? 'PostgreSQL' : 'SQLite'}, ` +
    `${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(2)}`);
  const url = await startServer();
  const one = new Deliveries();
  let current = one;
  const subscribers = await connectSubscribers(url, { received: (raw) => current.received(raw) });
  const requests = new Histogram();
  const marks = await phaseOne(url, one, requests);
  console.log(`phase 1: ${options.changes} changes one at a time (submit, executing, completed), each heard by all before the next`);
  console.log(`  change → delivery, every subscriber: ${one.fromChange.summary()}`);
  console.log(`  change → delivery to the last of ${options.subscribers}: ${one.last.summary()}`);
  console.log(`  request sent → delivery, every subscriber: ${one.fromRequest.summary()}`);
  console.log(`  (the requests themselves, sent → answered: ${requests.summary()})`);

  const two = new Deliveries();
  current = two;
  const { changes, seconds } = await phaseTwo(url, two, marks);
  const perSecond = changes / seconds;
  console.log(`phase 2: ${seconds.toFixed(1)} s of batch submissions (${BATCH_SIZE} tasks per batch, 2 submitters, ≤ ${WINDOW} changes in flight)`);
  console.log(`  ${perSecond.toFixed(0)} changes/s delivered to each of ${options.subscribers} subscribers (${(perSecond * options.subscribers).toFixed(0)} messages/s)`);
  console.log(`  change → delivery under that load, every subscriber: ${two.fromChange.summary()}`);

  const dropped = subscribers.dropped();
  for (const socket of subscribers.sockets) socket.terminate();
  const p99 = one.fromChange.percentile(99);
  console.log(`summary: p99 change → delivery ${p99.toFixed(1)} ms (target ≤ ${TARGET_P99_MS} ms: ${p99 <= TARGET_P99_MS ? 'MET' : 'MISSED'}); ` +
    `${perSecond.toFixed(0)} changes/s to ${options.subscribers}; subscribers dropped: ${dropped}; load ${os.loadavg()[0].toFixed(2)}`);
  return dropped === 0 ? 0 : 1;
}

async function cleanUp() {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(10_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  if (database) await adminQuery(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch((error) => console.error(error.message));
  rmSync(TMP, { recursive: true, force: true });
}

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (error) => {
    console.error(`FAILED: ${error.stack ?? error}`);
    await cleanUp();
    process.exit(1);
  },
);
