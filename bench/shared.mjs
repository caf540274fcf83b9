// What every bench script needs to start a taskhub server and report: a free port, the server's
// environment and Node flags, a process's CPU time, one-off administrative SQL, and a table printer.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

/** A loopback port nothing listens on now (the kernel's pick, released at once). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The environment of a benchmarked `taskhub serve`: loopback, quiet, no token, no config file,
 * and no worker inside it (the bench's own workers, or none, must be the only claimers).
 */
export function taskhubServerEnv({ port, databaseUrl, dir }) {
  const env = {
    ...process.env,
    TASKHUB_HOST: '127.0.0.1',
    TASKHUB_PORT: String(port),
    TASKHUB_DATABASE_URL: databaseUrl,
    TASKHUB_DATA_DIR: path.join(dir, 'blobs'),
    TASKHUB_LOG_LEVEL: 'warn',
    TASKHUB_API_TOKEN: '',
    TASKHUB_LOCAL_WORKER: '0',
  };
  delete env.TASKHUB_CONFIG;
  return env;
}

/**
 * The Node.js flags the `taskhub` command runs with: those on its first line
 * (`#!/usr/bin/env -S node --flag …`), so that a bench starts the server as the command does.
 * A build whose first line has none gets none.
 */
export function taskhubNodeFlags(cli) {
  const [firstLine] = readFileSync(cli, 'utf8').split('\n', 1);
  const words = firstLine.startsWith('#!') ? firstLine.slice(2).trim().split(/\s+/) : [];
  return words.slice(words.indexOf('node') + 1).filter((word) => word.startsWith('--'));
}

const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux, what /proc/<pid>/stat counts in

/**
 * CPU time (user + system, ms) a process has used so far, or NaN where /proc is missing.
 * Less sensitive than throughput to other work on a shared machine: the benches report CPU
 * per request or per job beside their rates.
 */
export function processCpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** Runs one statement on its own connection (CREATE / DROP DATABASE cannot share a transaction). */
export async function adminQuery(adminUrl, sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => String(row[i]).length)));
  const line = (cells) => cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join('  ');
  console.log(`  ${line(headers)}`);
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of rows) console.log(`  ${line(row)}`);
}
