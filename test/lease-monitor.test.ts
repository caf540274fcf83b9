import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeaseMonitor } from '../src/core/lease-monitor.js';
import { TaskService } from '../src/core/task-service.js';
import { BlobDirectory } from '../src/store/blob-directory.js';
import { ENGINES, openTestStore, type TestStore } from './helpers/databases.js';
import { claim, insert, NOW, worker } from './helpers/task-fixtures.js';

const LEASE_MS = 30_000;
const TEN_MINUTES = 600_000;

describe.each(ENGINES)('the lease sweep on %s', (engine) => {
  let db: TestStore;
  let now = NOW;
  let monitor: LeaseMonitor;
  let blobDir: string;

  beforeEach(async () => {
    db = await openTestStore(engine);
    blobDir = mkdtempSync(join(tmpdir(), 'taskhub-blobs-'));
    now = NOW;
    const clock = { now: () => now };
    const tasks = new TaskService(db.store, db.events, new BlobDirectory(blobDir), clock, { retryDelayMs: 0 });
    monitor = new LeaseMonitor(db.store, tasks, clock, { intervalMs: 1_000, leaseMs: LEASE_MS }, () => undefined);
  });
  afterEach(async () => {
    await db.close();
    rmSync(blobDir, { recursive: true, force: true });
  });

  it('forgets a worker silent for ten minutes unless it still holds a task', async () => {
    await db.store.upsertWorker(worker('silent', NOW - TEN_MINUTES - 1));
    await db.store.upsertWorker(worker('holding', NOW - TEN_MINUTES - 1));
    await db.store.upsertWorker(worker('recent', NOW - TEN_MINUTES + 1));
    await insert(db.store, {});
    await claim(db.store, { workerId: 'holding', now: NOW, leaseMs: LEASE_MS });
    await monitor.sweep();
    expect((await db.store.listWorkers()).map((w) => w.id).sort()).toEqual(['holding', 'recent']);
  });

  it('takes a task back with a retry spent when its worker went silent, and none when it heartbeats without it', async () => {
    await db.store.upsertWorker(worker('dead', NOW));
    await db.store.upsertWorker(worker('alive', NOW));
    const [left, lost] = await insert(db.store, { priority: 2 }, { priority: 1 });
    await claim(db.store, { workerId: 'dead', limit: 1, now: NOW, leaseMs: LEASE_MS });
    await claim(db.store, { workerId: 'alive', limit: 1, now: NOW, leaseMs: LEASE_MS });
    // The live worker heartbeats once its lease is due (a third in) without the task; the dead one never.
    await db.store.touchWorker('alive', NOW + LEASE_MS / 2);
    now = NOW + LEASE_MS + 1;
    expect(await monitor.sweep()).toBe(2);
    expect(await db.store.getTask(left!.id)).toMatchObject({ status: 'queued', retryCount: 1 });
    expect(await db.store.getTask(lost!.id)).toMatchObject({ status: 'queued', retryCount: 0, statusReason: 'not held by its worker' });
  });
});
