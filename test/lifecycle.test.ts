import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTaskhubError } from '../src/domain/errors.js';
import { canTransition, hasPassed, TASK_STATUSES, type TaskStatus } from '../src/domain/status.js';
import { InProcessEventBus } from '../src/core/in-process-event-bus.js';
import type { TaskEvent } from '../src/core/ports.js';
import { TaskService } from '../src/core/task-service.js';
import { BlobDirectory } from '../src/store/blob-directory.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';

// The lifecycle table written out a second time, independently of src/domain/status.ts:
// row = from, column = to; "x" allowed, "=" same status (allowed), "." refused.
const ORDER = ['created', 'queued', 'assigned', 'spawned', 'running', 'completed', 'failed', 'timeout', 'stopped', 'publishing', 'published', 'closed'];
const EXPECTED = `
created     = x . . x . . . x . . .
queued      x = x . x . x . x . . .
assigned    x x = x x x x x x . . .
spawned     x x . = x x x x x . . .
running     x x . . = x x x x . . .
completed   x . . . x = . . . x x .
failed      x x . . . . = . x . x .
timeout     x x . . . . . = x . . .
stopped     x x . . x x x . = x x x
publishing  . . . . . . . . . = x .
published   . . . . . . . . . . = .
closed      x . . . . . x . x x x =
`;

const expected = new Map<string, boolean>();
for (const line of EXPECTED.trim().split('\n')) {
  const [from, ...cells] = line.trim().split(/\s+/);
  cells.forEach((cell, index) => expected.set(`${from}>${ORDER[index]}`, cell !== '.'));
}
const pairs = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as [TaskStatus, TaskStatus]));

describe('the lifecycle table', () => {
  it('lists every status in the test table', () => {
    expect([...TASK_STATUSES].sort()).toEqual([...ORDER].sort());
    expect(expected.size).toBe(TASK_STATUSES.length ** 2);
  });

  it.each(pairs)('%s -> %s matches the table', (from, to) => {
    expect(canTransition(from, to)).toBe(expected.get(`${from}>${to}`));
  });

  it('knows which worker statuses a task has passed: only earlier ones on assigned → spawned → running', () => {
    const passed = pairs.filter(([current, status]) => hasPassed(current, status)).map(([current, status]) => `${status} before ${current}`);
    expect(passed.sort()).toEqual(['assigned before running', 'assigned before spawned', 'spawned before running']);
  });
});

describe('status changes through the service (real SQLite file)', () => {
  let store: SqliteStore;
  let tasks: TaskService;
  const clock = { now: () => Date.now() };

  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'taskhub-lifecycle-'));
    store = new SqliteStore(join(dir, 'lifecycle.db'));
    tasks = new TaskService(store, new InProcessEventBus(), new BlobDirectory(join(dir, 'blobs')), clock, { retryDelayMs: 0 });
  });
  afterAll(() => store.close());

  async function taskIn(status: TaskStatus): Promise<string> {
    const task = await tasks.submit({ name: `in ${status}` });
    if (status !== 'queued') await tasks.changeStatus(task.id, status, { force: true });
    return task.id;
  }

  it.each(pairs)('%s -> %s is applied exactly when the table allows it', async (from, to) => {
    const id = await taskIn(from);
    const allowed = expected.get(`${from}>${to}`)!;
    const outcome = await tasks.changeStatus(id, to).then(
      (task) => task.status,
      (error: unknown) => (isTaskhubError(error) ? error.code : error),
    );
    expect(outcome).toBe(allowed ? to : 'INVALID_TRANSITION');
    const after = await tasks.get(id);
    expect(after.status).toBe(allowed ? to : from);
    // force bypasses the table but still records the change in the history.
    const forced = await tasks.changeStatus(id, to, { force: true });
    expect(forced.status).toBe(to);
    const history = await tasks.history(id);
    expect(history.at(-1)).toMatchObject({ from: allowed ? to : from, to });
  });

  it('a change that lost the race fails cleanly and never overwrites', async () => {
    const id = await taskIn('running');
    const results = await Promise.allSettled([
      tasks.changeStatus(id, 'completed'),
      tasks.changeStatus(id, 'failed'),
      tasks.changeStatus(id, 'stopped'),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') expect((result.reason as { code: string }).code).toMatch(/CONFLICT|INVALID_TRANSITION/);
    }
    const final = await tasks.get(id);
    expect(final.status).toBe((won[0] as PromiseFulfilledResult<{ status: string }>).value.status);
    const history = await tasks.history(id);
    expect(history.filter((change) => change.from === 'running')).toHaveLength(1);
  });

  it('sets queuedAt whenever the task enters its queue, and says it in the event of the task leaving it', async () => {
    const events = new InProcessEventBus();
    const seen: TaskEvent[] = [];
    events.subscribe((event) => seen.push(event));
    let now = 1_000_000;
    const timed = new TaskService(store, events, new BlobDirectory(mkdtempSync(join(tmpdir(), 'taskhub-lifecycle-'))), { now: () => now }, { retryDelayMs: 0 });
    const { id } = await timed.submit({ name: 'queued twice' });
    now += 1_000;
    expect(await timed.changeStatus(id, 'queued')).toMatchObject({ queuedAt: 1_000_000 }); // a refresh is no new queueing
    now += 1_000;
    await timed.cancel(id);
    now += 1_000;
    expect(await timed.enqueue(id)).toMatchObject({ queuedAt: 1_003_000 });
    const changes = seen.filter((event) => event.type === 'status_changed');
    expect(changes.map((event) => [event.from, event.to, event.queuedAt])).toEqual([
      [null, 'queued', undefined],
      ['queued', 'queued', 1_000_000],
      ['queued', 'stopped', 1_000_000],
      ['stopped', 'queued', undefined],
    ]);
  });
});
