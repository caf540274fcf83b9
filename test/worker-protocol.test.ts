import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CompactTaskView } from '../src/api/native/schemas.js';
import { expandTask } from '../src/domain/compact-task.js';
import { ENGINES } from './helpers/databases.js';
import { call, databaseFor, startTestServer } from './helpers/server.js';

const ClaimAnswer = Type.Object(
  { claims: Type.Array(Type.Object({ task: CompactTaskView, secrets: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false })) },
  { additionalProperties: false },
);

describe.each(ENGINES)('worker protocol on %s', (engine) => {
  let server: Awaited<ReturnType<typeof startTestServer>>;
  const api = (method: string, path: string, body?: unknown) => call(server.url, method, `/v1${path}`, body);
  let queueCounter = 0;
  const freshQueue = () => `q${++queueCounter}`;

  async function register(queue: string, resources: object = { cpu: 4, memory: '8Gi' }, extra: object = {}) {
    const response = await api('POST', '/workers', { name: `w-${queue}`, queues: [queue], resources, executors: ['process', 'builtin'], ...extra });
    expect(response.status).toBe(201);
    return response.body.worker.id as string;
  }

  beforeAll(async () => {
    // A short lease and a fast sweep so that expiry shows within a test; no periodic claim
    // re-check, so only a notification can wake a long poll.
    server = await startTestServer({
      ...(await databaseFor(engine)),
      leaseMs: 1_000,
      leaseCheckMs: 50,
      retryDelayMs: 0,
      claimRecheckMs: 600_000,
    });
  });
  afterAll(() => server.close());

  it('claims by priority, then age, and runs a task to completion', async () => {
    const queue = freshQueue();
    const low = await api('POST', '/tasks', { name: 'low', queue, priority: 1 });
    const high = await api('POST', '/tasks', { name: 'high', queue, priority: 9 });
    const lowToo = await api('POST', '/tasks', { name: 'low too', queue, priority: 1 });
    const worker = await register(queue);
    const claimed = await api('POST', `/workers/${worker}/claim`, { limit: 3 });
    expect(claimed.body.claims.map((c: any) => c.task.id)).toEqual([high.body.id, low.body.id, lowToo.body.id]);
    expect(claimed.body.claims[0].task).toMatchObject({ status: 'assigned', workerId: worker });

    const id = high.body.id;
    for (const status of ['spawned', 'running']) {
      expect((await api('POST', `/workers/${worker}/tasks/${id}/report`, { status })).body.status).toBe(status);
    }
    const done = await api('POST', `/workers/${worker}/tasks/${id}/report`, {
      status: 'completed',
      result: { label: 'positive' },
      logs: [{ message: 'one' }, { message: 'two', stream: 'stderr' }],
    });
    expect(done.body).toMatchObject({ status: 'completed', result: { label: 'positive' } });
    expect(done.body.startedAt).toBeGreaterThan(0);
    expect(done.body.completedAt).toBeGreaterThanOrEqual(done.body.startedAt);
    const history = await api('GET', `/tasks/${id}/history`);
    expect(history.body.changes.map((c: any) => c.to)).toEqual(['queued', 'assigned', 'spawned', 'running', 'completed']);
    const logs = await api('GET', `/tasks/${id}/logs`);
    expect(logs.body.lines.map((l: any) => [l.stream, l.message])).toEqual([['stdout', 'one'], ['stderr', 'two']]);
    // The task is no longer held: another report is a conflict.
    expect((await api('POST', `/workers/${worker}/tasks/${id}/report`, { progress: 0.5 })).status).toBe(409);
  });

  it('takes a report sent again after its answer was lost as said before, so the result is not lost', async () => {
    const queue = freshQueue();
    const { body: task } = await api('POST', '/tasks', { queue });
    const worker = await register(queue);
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    const report = (body: object) => api('POST', `/workers/${worker}/tasks/${task.id}/report`, body);
    for (const status of ['spawned', 'running']) expect((await report({ status })).body.status).toBe(status);
    const logged = { taskId: task.id, runId: 'run-1', logs: [{ message: 'started', n: 1 }] };
    expect((await api('POST', `/workers/${worker}/reports`, { reports: [logged] })).body.results[0].ok).toBe(true);
    // The agent resends spawned, running and the log line, as after a server restart: taken, nothing changes.
    const again = await api('POST', `/workers/${worker}/reports`, {
      reports: [{ taskId: task.id, status: 'spawned' }, { taskId: task.id, status: 'running' }, logged],
    });
    expect(again.body.results).toEqual([
      { taskId: task.id, ok: true, status: 'running' },
      { taskId: task.id, ok: true, status: 'running' },
      { taskId: task.id, ok: true, status: 'running' },
    ]);
    expect((await api('GET', `/tasks/${task.id}/logs`)).body.lines.map((l: any) => l.message)).toEqual(['started']);
    expect((await report({ status: 'completed', result: { n: 1 } })).body).toMatchObject({ status: 'completed', result: { n: 1 } });
    const repeated = await report({ status: 'completed', result: { n: 1 } });
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ status: 'completed', result: { n: 1 } });
    const history = await api('GET', `/tasks/${task.id}/history`);
    expect(history.body.changes.map((c: any) => c.to)).toEqual(['queued', 'assigned', 'spawned', 'running', 'completed']);
    // Another status than the one it has is still refused on a finished task.
    expect((await report({ status: 'failed', error: 'late' })).status).toBe(409);
  });

  it('hands secrets only to the worker that claims the task', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue, secrets: { storage_credentials: 'creds-secret' } });
    expect(JSON.stringify(task.body)).not.toContain('creds-secret');
    const worker = await register(queue);
    const claimed = await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    expect(claimed.body.claims[0].secrets).toEqual({ storage_credentials: 'creds-secret' });
  });

  it('sends claimed tasks compact, as the schema says: empty fields left out, the rest as reading the task shows it', async () => {
    const queue = freshQueue();
    const submitted = await api('POST', '/tasks', { queue, input: [], tags: ['nightly'], hyperparams: { lr: { value: 0.1 } } });
    const worker = await register(queue);
    const claimed = await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    expect(Value.Errors(ClaimAnswer, claimed.body).First()).toBeUndefined();
    const [{ task, ...rest }] = claimed.body.claims;
    expect(rest).toEqual({}); // no secrets
    for (const field of ['comment', 'result', 'systemTags', 'execution', 'startedAt']) expect(task).not.toHaveProperty(field);
    expect(task).toMatchObject({ input: [], tags: ['nightly'], hyperparams: { lr: { value: 0.1 } } });
    expect(expandTask(task)).toEqual((await api('GET', `/tasks/${submitted.body.id}`)).body);
  });

  it('gives each task to exactly one of 8 concurrent claimers', async () => {
    const queue = freshQueue();
    const total = 200;
    for (let i = 0; i < total; i += 100) {
      await api('POST', '/tasks/batch', { tasks: Array.from({ length: 100 }, (_, j) => ({ queue, name: `t${i + j}` })) });
    }
    const workers = await Promise.all(Array.from({ length: 8 }, () => register(queue)));
    const seen: string[] = [];
    await Promise.all(
      workers.map(async (worker) => {
        for (;;) {
          const claimed = await api('POST', `/workers/${worker}/claim`, { limit: 3 });
          if (claimed.body.claims.length === 0) return;
          for (const { task } of claimed.body.claims) {
            seen.push(task.id);
            // Finished at once, so the short test lease never runs out and hands it to another.
            expect((await api('POST', `/workers/${worker}/tasks/${task.id}/report`, { status: 'completed' })).status).toBe(200);
          }
        }
      }),
    );
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect((await api('GET', `/tasks?queue=${queue}&status=completed&limit=1`)).body.total).toBe(total);
  });

  it('wakes an idle long-polling worker as soon as a task arrives', async () => {
    const queue = freshQueue();
    const worker = await register(queue);
    const claim = api('POST', `/workers/${worker}/claim`, { limit: 1, waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const submitted = await api('POST', '/tasks', { queue, name: 'wake up' });
    const claimed = await claim;
    expect(claimed.body.claims[0].task.id).toBe(submitted.body.id);
  });

  it('answers an empty long poll after waitMs', async () => {
    const queue = freshQueue();
    const worker = await register(queue);
    const started = Date.now();
    const claimed = await api('POST', `/workers/${worker}/claim`, { limit: 1, waitMs: 200 });
    expect(claimed.body.claims).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('gives a task only to a worker that meets its requirements', async () => {
    const queue = freshQueue();
    const gpuTask = await api('POST', '/tasks', { queue, resources: { gpus: 1, gpuMemory: '8GB' } });
    const cpuWorker = await register(queue, { cpu: 8, memory: '32Gi' });
    expect((await api('POST', `/workers/${cpuWorker}/claim`, { limit: 1 })).body.claims).toEqual([]);
    const smallGpu = await register(queue, { cpu: 8, memory: '32Gi', gpus: 1, gpuMemory: '4Gi' });
    expect((await api('POST', `/workers/${smallGpu}/claim`, { limit: 1 })).body.claims).toEqual([]);
    const poll = api('POST', `/workers/${smallGpu}/claim`, { limit: 1, waitMs: 300 });
    const bigGpu = await register(queue, { cpu: 8, memory: '32Gi', gpus: 2, gpuMemory: '16Gi' });
    const claimed = await api('POST', `/workers/${bigGpu}/claim`, { limit: 1 });
    expect(claimed.body.claims[0].task.id).toBe(gpuTask.body.id);
    expect((await poll).body.claims).toEqual([]);
  });

  it('takes a task back when its worker stops heartbeating, then fails it when retries are spent', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue, maxRetries: 1 });
    const first = await register(queue);
    await api('POST', `/workers/${first}/claim`, { limit: 1 });
    // No heartbeat: after the 1 s lease the task is back in its queue with one retry spent.
    const second = await register(queue);
    const reclaimed = await api('POST', `/workers/${second}/claim`, { limit: 1, waitMs: 5_000 });
    expect(reclaimed.body.claims[0].task).toMatchObject({ id: task.body.id, retryCount: 1, workerId: second });
    expect(reclaimed.body.claims[0].task.retryReason).toContain('lease expired');
    // The first worker's late report is refused: the task is no longer its.
    expect((await api('POST', `/workers/${first}/tasks/${task.body.id}/report`, { status: 'completed' })).status).toBe(409);
    // The second worker goes silent too: no retries left, so it fails.
    let failed = await api('GET', `/tasks/${task.body.id}`);
    for (let i = 0; i < 60 && failed.body.status !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      failed = await api('GET', `/tasks/${task.body.id}`);
    }
    expect(failed.body).toMatchObject({ status: 'failed', retryCount: 1 });
    expect(failed.body.error).toContain('retries exhausted');
  });

  it('keeps a lease alive with heartbeats and tells the worker to stop a cancelled task', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue });
    const worker = await register(queue);
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    await api('POST', `/workers/${worker}/tasks/${task.body.id}/report`, { status: 'running' });
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const beat = await api('POST', `/workers/${worker}/heartbeat`, { running: [task.body.id] });
      expect(beat.body.stop).toEqual([]);
    }
    expect((await api('GET', `/tasks/${task.body.id}`)).body.status).toBe('running');
    await api('POST', `/tasks/${task.body.id}/cancel`);
    const beat = await api('POST', `/workers/${worker}/heartbeat`, { running: [task.body.id] });
    expect(beat.body.stop).toEqual([task.body.id]);
  });

  it('lets the lease of a task its worker does not list run out: a claim whose answer was lost comes back, no retry spent', async () => {
    const queue = freshQueue();
    const listed = await api('POST', '/tasks', { queue, priority: 2 });
    const lost = await api('POST', '/tasks', { queue, priority: 1 });
    const worker = await register(queue);
    // Both are claimed, but the worker knows only of the first (the other answer never reached it).
    expect((await api('POST', `/workers/${worker}/claim`, { limit: 2 })).body.claims).toHaveLength(2);
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await api('POST', `/workers/${worker}/heartbeat`, { running: [listed.body.id] })).body.stop).toEqual([]);
    }
    expect((await api('GET', `/tasks/${listed.body.id}`)).body).toMatchObject({ status: 'assigned', workerId: worker });
    expect((await api('GET', `/tasks/${lost.body.id}`)).body).toMatchObject({ status: 'queued', retryCount: 0, workerId: null });
    const history = (await api('GET', `/tasks/${lost.body.id}/history`)).body.changes;
    expect(history.at(-1)).toMatchObject({ from: 'assigned', to: 'queued', reason: 'not held by its worker' });
  });

  it('ends a task that runs past its max execution time as timeout', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue, resources: { maxExecutionSeconds: 1 } });
    const worker = await register(queue);
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    await api('POST', `/workers/${worker}/tasks/${task.body.id}/report`, { status: 'running' });
    const deadline = Date.now() + 3_000;
    let status = 'running';
    while (status === 'running' && Date.now() < deadline) {
      await api('POST', `/workers/${worker}/heartbeat`, { running: [task.body.id] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await api('GET', `/tasks/${task.body.id}`)).body.status;
    }
    expect(status).toBe('timeout');
  });

  it('retries a transient failure and fails a plain one', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue, maxRetries: 2 });
    const worker = await register(queue);
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    const requeued = await api('POST', `/workers/${worker}/tasks/${task.body.id}/report`, { status: 'failed', error: 'pod OOMKilled' });
    expect(requeued.body).toMatchObject({ status: 'queued', retryCount: 1, retryReason: 'pod OOMKilled' });
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    const failed = await api('POST', `/workers/${worker}/tasks/${task.body.id}/report`, { status: 'failed', error: 'bad input' });
    expect(failed.body).toMatchObject({ status: 'failed', retryCount: 1, error: 'bad input' });
  });

  it('hands held tasks back when a worker unregisters', async () => {
    const queue = freshQueue();
    const task = await api('POST', '/tasks', { queue });
    const worker = await register(queue);
    await api('POST', `/workers/${worker}/claim`, { limit: 1 });
    expect((await api('DELETE', `/workers/${worker}`)).status).toBe(204);
    expect((await api('GET', `/tasks/${task.body.id}`)).body).toMatchObject({ status: 'queued', retryCount: 0, workerId: null });
    expect((await api('POST', `/workers/${worker}/heartbeat`, {})).status).toBe(404);
  });
});
