import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TRACKED_TASKS, TaskTimings } from '../src/api/metrics/task-timings.js';
import type { TaskEvent } from '../src/core/ports.js';
import type { TaskStatus } from '../src/domain/status.js';
import { ENGINES, SKIP_POSTGRES } from './helpers/databases.js';
import { rawRequest } from './helpers/raw-http.js';
import { call, databaseFor, startTestServer } from './helpers/server.js';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const submit = async (server: Server, type: string) =>
  (await call(server.url, 'POST', '/api/worktasks', { type, project_id: 'metrics' })).body.worktask_id as string;
const report = (server: Server, id: string, status: string, error_message?: string) =>
  call(server.url, 'POST', `/api/worktasks/${id}`, { worktask_id: id, status, error_message });

/** The value of one sample of the Prometheus text format, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe.each(ENGINES)('GET /api/metrics on %s', (engine) => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer(await databaseFor(engine));
  });
  afterAll(() => server.close());

  it('counts the queue, tasks by status in Mimir words (every word listed) and by type', async () => {
    const empty = (await call(server.url, 'GET', '/api/metrics')).body;
    expect(empty).toEqual({
      queue: { length: 0, queues: expect.any(Object) },
      tasks_by_status: { queued: 0, scheduled: 0, spawned: 0, executing: 0, completed: 0, failed: 0, timeout: 0, cancelled: 0 },
      tasks_by_type: {},
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });

    const ids = [];
    for (const type of ['ml_training', 'ml_training', 'ml_inference', 'pipeline_execution', 'digital_twin_update']) ids.push(await submit(server, type));
    await report(server, ids[0]!, 'executing');
    await report(server, ids[1]!, 'completed');
    await report(server, ids[2]!, 'failed', 'bad input');
    await report(server, ids[3]!, 'cancelled');
    const metrics = await call(server.url, 'GET', '/api/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatchObject({
      queue: { length: 1, queues: { default: 1 } },
      tasks_by_status: { queued: 1, scheduled: 0, spawned: 0, executing: 1, completed: 1, failed: 1, timeout: 0, cancelled: 1 },
      tasks_by_type: { ml_training: 2, ml_inference: 1, pipeline_execution: 1, digital_twin_update: 1 },
    });
    expect(Math.abs(Date.parse(metrics.body.timestamp) - Date.now())).toBeLessThan(60_000);
  });
});

describe.skipIf(SKIP_POSTGRES)('/api/metrics across server instances on PostgreSQL', () => {
  it('answers the same on every instance: the counts come from the store', async () => {
    const database = await databaseFor('postgres');
    const first = await startTestServer(database);
    const second = await startTestServer(database);
    try {
      await submit(first, 'ml_training');
      await report(second, await submit(second, 'ml_inference'), 'executing');
      const [a, b] = await Promise.all([call(first.url, 'GET', '/api/metrics'), call(second.url, 'GET', '/api/metrics')]);
      expect(a.body.tasks_by_status).toEqual(b.body.tasks_by_status);
      expect(a.body.tasks_by_status).toMatchObject({ queued: 1, executing: 1 });
      expect(a.body.queue).toEqual(b.body.queue);
      expect(a.body.tasks_by_type).toEqual({ ml_training: 1, ml_inference: 1 });
    } finally {
      await first.close();
      await second.close();
    }
  });
});

describe('GET /metrics (Prometheus)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());
  const scrape = async () => {
    const response = await rawRequest(server.url, { method: 'GET', path: '/metrics' });
    expect(response.status).toBe(200);
    expect(response.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  it('shows queue depth per queue and tasks per status, read from the store', async () => {
    await call(server.url, 'POST', '/v1/tasks', { name: 'gpu job', queue: 'gpu' });
    await call(server.url, 'POST', '/v1/tasks', { name: 'gpu job 2', queue: 'gpu' });
    await report(server, await submit(server, 'ml_inference'), 'timeout');
    const text = await scrape();
    expect(text).toContain('# TYPE taskhub_queue_depth gauge');
    expect(sample(text, 'taskhub_queue_depth', '{queue="gpu"}')).toBe(2);
    expect(sample(text, 'taskhub_tasks', '{status="queued"}')).toBe(2);
    expect(sample(text, 'taskhub_tasks', '{status="timeout"}')).toBe(1);
    expect(sample(text, 'taskhub_tasks', '{status="published"}')).toBe(0);
  });

  it('observes claim latency and task duration from task events', async () => {
    const before = await scrape();
    const claims = sample(before, 'taskhub_claim_latency_seconds_count') ?? 0;
    const queue = 'timed';
    const { body: task } = await call(server.url, 'POST', '/v1/tasks', { name: 'timed', queue });
    const worker = (await call(server.url, 'POST', '/v1/workers', { name: 'w', queues: [queue] })).body.worker.id;
    await call(server.url, 'POST', `/v1/workers/${worker}/claim`, { limit: 1 });
    await call(server.url, 'POST', `/v1/workers/${worker}/tasks/${task.id}/report`, { status: 'running' });
    await call(server.url, 'POST', `/v1/workers/${worker}/tasks/${task.id}/report`, { status: 'completed' });
    // A work task started by its worker job's report, without a claim, is observed too.
    const reported = await submit(server, 'ml_training');
    await report(server, reported, 'executing');
    await report(server, reported, 'failed', 'exit 1');

    const text = await scrape();
    expect(sample(text, 'taskhub_claim_latency_seconds_count')).toBe(claims + 2);
    expect(sample(text, 'taskhub_claim_latency_seconds_bucket', '{le="+Inf"}')).toBe(claims + 2);
    expect(sample(text, 'taskhub_task_duration_seconds_count', '{status="completed"}')).toBe(1);
    expect(sample(text, 'taskhub_task_duration_seconds_count', '{status="failed"}')).toBe(1);
    expect(sample(text, 'taskhub_task_duration_seconds_sum', '{status="completed"}')).toBeGreaterThanOrEqual(0);
  });

  it('counts HTTP requests by route pattern and status code', async () => {
    await call(server.url, 'GET', '/api/worktasks/no-such-1');
    await call(server.url, 'GET', '/api/worktasks/no-such-2');
    await call(server.url, 'GET', '/definitely/not/here');
    const text = await scrape();
    expect(sample(text, 'taskhub_http_request_duration_seconds_count', '{method="GET",route="/api/worktasks/:id",status_code="404"}')).toBe(2);
    expect(sample(text, 'taskhub_http_request_duration_seconds_count', '{method="GET",route="unmatched",status_code="404"}')).toBe(1);
    expect(text).not.toContain('no-such-1');
  });
});

describe('task timings from events', () => {
  const change = (taskId: string, from: TaskStatus | null, to: TaskStatus, at: number, queuedAt?: number): TaskEvent => ({
    type: 'status_changed',
    taskId,
    from,
    to,
    at,
    ...(queuedAt === undefined ? {} : { queuedAt }),
  });

  it('measures queued → active and active → final, once per phase', () => {
    const claims: number[] = [];
    const durations: Array<[number, string]> = [];
    const timings = new TaskTimings({ claimLatency: (s) => claims.push(s), duration: (s, status) => durations.push([s, status]) });
    for (const event of [
      change('a', null, 'queued', 1_000),
      change('a', 'queued', 'assigned', 1_250, 1_000),
      change('a', 'assigned', 'spawned', 1_300),
      change('a', 'spawned', 'running', 2_000),
      change('a', 'running', 'queued', 3_000), // a retry: measured again from here
      change('a', 'queued', 'running', 3_500, 3_000),
      change('a', 'running', 'completed', 6_500),
      change('b', 'created', 'running', 10), // never seen queued: no claim latency, but a duration
      change('b', 'running', 'stopped', 5), // another instance's clock behind ours: never negative
      change('c', null, 'queued', 7_000),
      change('c', 'queued', 'stopped', 7_100, 7_000), // cancelled while waiting: nothing to measure
      change('c', 'stopped', 'running', 7_200), // force-restarted: measured from here
      change('c', 'running', 'failed', 7_700),
    ]) {
      timings.record(event);
    }
    expect(claims).toEqual([0.25, 0.5]);
    expect(durations).toEqual([
      [3, 'completed'],
      [0, 'stopped'],
      [0.5, 'failed'],
    ]);
  });

  it('takes the queue time from the claim, whatever it saw before (another instance, a restart)', () => {
    const claims: number[] = [];
    const timings = new TaskTimings({ claimLatency: (s) => claims.push(s), duration: () => {} });
    timings.record(change('never-seen', 'queued', 'assigned', 5_000, 2_000));
    timings.record(change('no-time', 'queued', 'assigned', 5_000)); // an event from before queuedAt was sent
    expect(claims).toEqual([3]);
  });

  it(`forgets the oldest tasks past ${MAX_TRACKED_TASKS} held by workers`, () => {
    const durations: number[] = [];
    const timings = new TaskTimings({ claimLatency: () => {}, duration: (s) => durations.push(s) });
    for (let i = 0; i <= MAX_TRACKED_TASKS; i++) timings.record(change(`t${i}`, 'queued', 'assigned', 0, 0));
    timings.record(change('t0', 'assigned', 'completed', 1_000));
    timings.record(change(`t${MAX_TRACKED_TASKS}`, 'assigned', 'completed', 2_000));
    expect(durations).toEqual([2]);
  });
});
