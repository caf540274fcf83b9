import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskService } from '../src/core/task-service.js';
import { WorkerService } from '../src/core/worker-service.js';
import { BlobDirectory } from '../src/store/blob-directory.js';
import { ENGINES, openTestStore, type TestStore } from './helpers/databases.js';

const clock = { now: () => Date.now() };
const resources = { cpuMillis: 4000, memoryBytes: 2 ** 33, gpuCount: 0, gpuMemoryBytes: 0 };
/** Long enough for a long poll to have looked at the store and gone to sleep (nothing announces it). */
const untilAsleep = () => new Promise((resolve) => setTimeout(resolve, 100));

describe.each(ENGINES)('hand-off to an idle long-polling worker: %s', (engine) => {
  let db: TestStore;
  let tasks: TaskService;
  let workers: WorkerService;
  beforeEach(async () => {
    db = await openTestStore(engine);
    const blobs = new BlobDirectory(join(mkdtempSync(join(tmpdir(), 'taskhub-hand-off-')), 'blobs'));
    tasks = new TaskService(db.store, db.events, blobs, clock, { retryDelayMs: 0 });
    // No periodic re-check: only the submission can end the long poll.
    workers = new WorkerService(db.store, tasks, db.events, clock, { leaseMs: 30_000, recheckMs: 600_000 });
  });
  afterEach(async () => {
    workers.shutdown();
    await db.close();
    expect(db.errors).toEqual([]);
  });

  it('claims the new task for the sleeping worker in the transaction that inserts it', async () => {
    const worker = await workers.register({ name: 'idle', queues: ['default'], resources });
    const claim = workers.claim(worker.id, { limit: 1, waitMs: 20_000 });
    await untilAsleep();
    const submitted = await tasks.submit({ name: 'picked up' });
    // Already assigned when the submission is answered: one commit, not a wake-up and a second one.
    expect(await db.store.getTask(submitted.id)).toMatchObject({ status: 'assigned', workerId: worker.id });
    const [claimed] = await claim;
    expect(claimed).toMatchObject({ id: submitted.id, status: 'assigned', workerId: worker.id, statusChangedAt: submitted.createdAt });
    expect((await tasks.history(submitted.id)).map(({ from, to, at }) => [from, to, at])).toEqual([
      [null, 'queued', submitted.createdAt],
      ['queued', 'assigned', submitted.createdAt],
    ]);
  });

  it('puts the task back in its queue when the worker left while it was being claimed', async () => {
    const gone = await workers.register({ name: 'gone', queues: ['default'], resources });
    const leaving = new AbortController();
    const claim = workers.claim(gone.id, { limit: 1, waitMs: 20_000, signal: leaving.signal });
    await untilAsleep();
    const submitted = tasks.submit({ name: 'orphan' });
    leaving.abort();
    expect(await claim).toEqual([]);
    const task = await submitted;
    expect(await db.store.getTask(task.id)).toMatchObject({ status: 'queued', workerId: null, retryCount: 0 });
    expect((await tasks.history(task.id)).map(({ to, reason }) => [to, reason])).toEqual([
      ['queued', null],
      ['assigned', 'claimed'],
      ['queued', 'claimer left'],
    ]);
    const other = await workers.register({ name: 'other', queues: ['default'], resources });
    expect((await workers.claim(other.id, { limit: 1, waitMs: 0 })).map(({ id }) => id)).toEqual([task.id]);
  });
});
