import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StatusUpdate, TaskStore } from '../src/core/ports.js';
import { migrateDatabase } from '../src/store/open-store.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { ENGINES, openTestStore, type TestStore } from './helpers/databases.js';
import { NOW, ROOMY, claim, fullyPopulatedTask, ids, insert, queued, worker } from './helpers/task-fixtures.js';

// One contract, every engine: SqliteStore is the reference, PostgresStore must match it.
describe.each(ENGINES)('TaskStore contract: %s', (engine) => {
  let db: TestStore | undefined;
  let store: TaskStore;
  beforeEach(async () => {
    db = await openTestStore(engine);
    store = db.store;
  });
  afterEach(async () => {
    const opened = db;
    db = undefined;
    if (!opened) return; // opening failed: that error is the one to see
    await opened.close();
    expect(opened.errors).toEqual([]);
  });

  it('round-trips every field of a task and keeps secrets apart', async () => {
    const full = fullyPopulatedTask();
    const plain = queued({ id: 'task-plain' });
    await store.insertTasks([full, plain]);
    const read = await store.getTask('task-full');
    expect(read).toEqual({ ...full.task, hasSecrets: true });
    expect(JSON.stringify(read)).not.toContain('SK');
    expect(await store.getSecrets('task-full')).toEqual(full.secrets);
    expect(await store.getTask('task-plain')).toEqual(plain.task);
    expect(await store.getSecrets('task-plain')).toBeNull();
    expect(await store.getTask('missing')).toBeUndefined();
    expect(await store.statusHistory('task-full')).toEqual([
      { id: expect.any(Number), taskId: 'task-full', from: null, to: 'queued', at: NOW, reason: 'submitted', message: 'by test', workerId: null },
    ]);
  });

  it('inserts a large batch in one call', async () => {
    await store.insertTasks([]);
    const batch = Array.from({ length: 1300 }, (_, i) => queued({ id: `bulk-${String(i).padStart(4, '0')}`, tags: [String(i)] }));
    await store.insertTasks(batch);
    expect(await store.countTasks({})).toBe(1300);
    expect(await store.getTask('bulk-1299')).toEqual(batch[1299]!.task);
    expect((await store.statusHistory('bulk-1299')).map((c) => c.to)).toEqual(['queued']);
  });

  it('fails a batch with a duplicate id alone, writing none of it', async () => {
    await insert(store, { id: 'taken' });
    const [bad, good] = await Promise.allSettled([
      store.insertTasks([queued({ id: 'fresh-1' }), queued({ id: 'taken' })]),
      store.insertTasks([queued({ id: 'fresh-2' })]),
    ]);
    expect(bad.status).toBe('rejected');
    expect(good.status).toBe('fulfilled');
    expect(await store.getTask('fresh-1')).toBeUndefined();
    expect(await store.statusHistory('fresh-1')).toEqual([]);
    expect(await store.getTask('fresh-2')).toBeDefined();
  });

  it('lists and counts with each filter, in order, by page', async () => {
    await store.insertTasks([
      queued({ id: 'a', queue: 'q1', project: 'p1', owner: 'o1', type: 't1', modelId: 'm1' }, NOW),
      queued({ id: 'b', queue: 'q2', project: 'p1', owner: 'o2', type: 't2', modelId: 'm2' }, NOW + 1),
      queued({ id: 'c', status: 'created', project: 'p2', owner: 'o1', type: 't1' }, NOW + 2),
      queued({ id: 'd', queue: 'q1', project: 'p2', owner: 'o2', type: 't2', modelId: 'm1' }, NOW + 3),
    ]);
    await claim(store, { queues: ['q2'], workerId: 'w9', now: NOW + 10 });
    const cases: Array<[Parameters<TaskStore['listTasks']>[0], string[]]> = [
      [{}, ['d', 'c', 'b', 'a']],
      [{ queue: 'q1' }, ['d', 'a']],
      [{ project: 'p2' }, ['d', 'c']],
      [{ owner: 'o1' }, ['c', 'a']],
      [{ type: 't2' }, ['d', 'b']],
      [{ modelId: 'm1' }, ['d', 'a']],
      [{ workerId: 'w9' }, ['b']],
      [{ statuses: ['created', 'assigned'] }, ['c', 'b']],
      [{ statuses: [] }, []],
      [{ ids: ['a', 'c', 'zz'] }, ['c', 'a']],
      [{ ids: [] }, []],
      // More ids than SQLite takes parameters (32,766), with quotes and a duplicate.
      [{ ids: [...Array.from({ length: 40_000 }, (_, i) => `x'"${i}`), 'b', 'd', 'b'] }, ['d', 'b']],
      [{ project: 'p1', owner: 'o2' }, ['b']],
      [{ oldestFirst: true }, ['a', 'b', 'c', 'd']],
    ];
    for (const [filter, expected] of cases) {
      expect(ids(await store.listTasks(filter, { limit: 100, offset: 0 })), JSON.stringify(filter)).toEqual(expected);
      expect(await store.countTasks(filter), JSON.stringify(filter)).toBe(expected.length);
    }
    expect(ids(await store.listTasks({}, { limit: 2, offset: 1 }))).toEqual(['c', 'b']);
    expect(ids(await store.listTasks({ oldestFirst: true }, { limit: 2, offset: 3 }))).toEqual(['d']);
    // SQLite's reading of negative bounds: no limit, no offset.
    expect(ids(await store.listTasks({}, { limit: -1, offset: -1 }))).toEqual(['d', 'c', 'b', 'a']);
  });

  it('breaks ties on time by id, compared bytewise', async () => {
    await insert(store, { id: 'a-1' }, { id: 'B-1' }, { id: '_-1' });
    expect(ids(await store.listTasks({}, { limit: 10, offset: 0 }))).toEqual(['a-1', '_-1', 'B-1']);
    expect(ids(await claim(store))).toEqual(['B-1', '_-1', 'a-1']);
  });

  it('changes status only from the expected status, recording each change', async () => {
    const [task] = await insert(store, { id: 't' });
    const wrong: StatusUpdate = { taskId: 't', from: 'running', to: 'completed', at: NOW + 5, reason: null, message: null, patch: {} };
    expect(await store.changeStatus(wrong)).toBeUndefined();
    expect(await store.changeStatus({ ...wrong, taskId: 'missing', from: 'queued' })).toBeUndefined();
    expect(await store.getTask('t')).toEqual(task);
    const stopped = await store.changeStatus({
      taskId: 't', from: 'queued', to: 'stopped', at: NOW + 6, reason: 'user', message: 'stop it',
      patch: { workerId: 'w1', result: { out: [1, { deep: true }] }, progress: 0.5, completedAt: NOW + 6 },
    });
    expect(stopped).toEqual({
      ...task, status: 'stopped', statusChangedAt: NOW + 6, updatedAt: NOW + 6, statusReason: 'user',
      statusMessage: 'stop it', workerId: 'w1', result: { out: [1, { deep: true }] }, progress: 0.5, completedAt: NOW + 6,
    });
    expect(await store.getTask('t')).toEqual(stopped);
    await store.changeStatus({ ...wrong, from: 'stopped', to: 'queued', at: NOW + 7, patch: { workerId: null } });
    expect((await store.statusHistory('t')).map(({ from, to, at, reason, message, workerId }) => [from, to, at, reason, message, workerId])).toEqual([
      [null, 'queued', NOW, null, null, null],
      ['queued', 'stopped', NOW + 6, 'user', 'stop it', 'w1'],
      ['stopped', 'queued', NOW + 7, null, null, null],
    ]);
    const history = await store.statusHistory('t');
    expect(history.map((c) => c.id)).toEqual([...history.map((c) => c.id)].sort((x, y) => x - y));
  });

  it('answers reads of tasks by id made together, each with a task of its own', async () => {
    const [a, b] = await insert(store, { id: 'a' }, { id: 'b' });
    const [gotA, gotB, missing, againA] = await Promise.all(['a', 'b', 'missing', 'a'].map((id) => store.getTask(id)));
    expect([gotA, gotB, missing, againA]).toEqual([a, b, undefined, a]);
    expect(againA).not.toBe(gotA);
  });

  it('applies status changes made together each on its own, in the order made', async () => {
    await insert(store, { id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' });
    const change = (taskId: string, from: StatusUpdate['from'], to: StatusUpdate['to'], at: number, patch: StatusUpdate['patch'] = {}): StatusUpdate => ({
      taskId, from, to, at, reason: null, message: null, patch,
    });
    // Made in one turn, so they share a transaction: different shapes (with and without a
    // result), a stale `from`, a missing task, and one task changed twice in a row.
    const results = await Promise.all([
      store.changeStatus(change('a', 'queued', 'stopped', NOW + 1, { result: { a: 'a "quote", a \\ and {braces}, ü' }, completedAt: NOW + 1 })),
      store.changeStatus(change('b', 'queued', 'stopped', NOW + 1, { result: [] })),
      store.changeStatus(change('c', 'running', 'completed', NOW + 1)),
      store.changeStatus(change('missing', 'queued', 'stopped', NOW + 1)),
      store.changeStatus(change('d', 'queued', 'stopped', NOW + 1)),
      store.changeStatus(change('d', 'stopped', 'queued', NOW + 2, { workerId: null })),
    ]);
    expect(results.map((task) => task && [task.id, task.status, task.result])).toEqual([
      ['a', 'stopped', { a: 'a "quote", a \\ and {braces}, ü' }],
      ['b', 'stopped', []],
      undefined,
      undefined,
      ['d', 'stopped', null],
      ['d', 'queued', null],
    ]);
    expect((await store.getTask('a'))!.result).toEqual({ a: 'a "quote", a \\ and {braces}, ü' });
    expect((await store.getTask('c'))!.status).toBe('queued');
    expect((await store.getTask('d'))!.status).toBe('queued');
    const transitions = async (id: string) => (await store.statusHistory(id)).map(({ from, to, at }) => [from, to, at]);
    expect(await transitions('a')).toEqual([[null, 'queued', NOW], ['queued', 'stopped', NOW + 1]]);
    expect(await transitions('c')).toEqual([[null, 'queued', NOW]]);
    expect(await transitions('d')).toEqual([[null, 'queued', NOW], ['queued', 'stopped', NOW + 1], ['stopped', 'queued', NOW + 2]]);
  });

  it('patches fields but never the status', async () => {
    const [task] = await insert(store, { id: 't' });
    const resources = { ...task!.resources, gpuCount: 4, executor: 'process' };
    const patched = await store.patchTask('t', { comment: 'new', extra: { k: ['v'] }, resources, queue: null }, NOW + 9);
    expect(patched).toEqual({ ...task, comment: 'new', extra: { k: ['v'] }, resources, queue: null, updatedAt: NOW + 9 });
    expect(await store.getTask('t')).toEqual(patched);
    expect(await store.patchTask('missing', { comment: 'x' }, NOW)).toBeUndefined();
    expect(await store.statusHistory('t')).toHaveLength(1);
  });

  it('deletes a task with its logs and history', async () => {
    await insert(store, { id: 'gone' }, { id: 'kept' });
    for (const id of ['gone', 'kept']) await store.appendLogs(id, [{ at: NOW, stream: 'stdout', level: 'info', message: id }]);
    expect(await store.deleteTask('gone')).toBe(true);
    expect(await store.deleteTask('gone')).toBe(false);
    expect(await store.getTask('gone')).toBeUndefined();
    expect(await store.readLogs('gone', 0, 10)).toEqual([]);
    expect(await store.statusHistory('gone')).toEqual([]);
    expect(await store.readLogs('kept', 0, 10)).toHaveLength(1);
    expect(await store.statusHistory('kept')).toHaveLength(1);
  });

  it('claims by priority, then queued time, under a lease, recording the change', async () => {
    await store.insertTasks([
      queued({ id: 'low-early', priority: 1 }, NOW - 30),
      queued({ id: 'high-late', priority: 5 }, NOW - 10),
      queued({ id: 'high-early', priority: 5 }, NOW - 20),
      queued({ id: 'zero', priority: 0 }, NOW - 40),
    ]);
    const first = await claim(store, { limit: 3, workerId: 'w1', leaseMs: 1000 });
    expect(ids(first)).toEqual(['high-early', 'high-late', 'low-early']);
    for (const task of first) {
      expect(task).toMatchObject({ status: 'assigned', workerId: 'w1', leaseExpiresAt: NOW + 1000, statusReason: 'claimed', statusMessage: null, statusChangedAt: NOW, updatedAt: NOW });
      expect(await store.getTask(task.id)).toEqual(task);
      expect((await store.statusHistory(task.id)).slice(1)).toEqual([
        { id: expect.any(Number), taskId: task.id, from: 'queued', to: 'assigned', at: NOW, reason: 'claimed', message: null, workerId: 'w1' },
      ]);
    }
    expect(ids(await claim(store, { limit: 3 }))).toEqual(['zero']);
    expect(await claim(store)).toEqual([]);
  });

  it('claims across several queues by priority, then queued time, as if they were one', async () => {
    await store.insertTasks([
      queued({ id: 'a-high', queue: 'a', priority: 5 }, NOW - 10),
      queued({ id: 'a-low', queue: 'a', priority: 1 }, NOW - 50),
      queued({ id: 'b-high-early', queue: 'b', priority: 5 }, NOW - 20),
      queued({ id: 'b-mid', queue: 'b', priority: 3 }, NOW - 40),
      queued({ id: 'c-top', queue: 'c', priority: 9 }, NOW - 5),
    ]);
    expect(ids(await claim(store, { queues: ['a', 'b'], limit: 3 }))).toEqual(['b-high-early', 'a-high', 'b-mid']);
    expect(ids(await claim(store, { queues: ['b', 'a'], limit: 3 }))).toEqual(['a-low']);
    await insert(store, { id: 'c-next', queue: 'c', priority: 9 });
    expect(ids(await claim(store, { queues: ['c', 'c'], limit: 2 }))).toEqual(['c-top', 'c-next']);
  });

  it('claims only tasks the capacity fits, from the asked queues, once eligible', async () => {
    const needs = { cpuMillis: 2000, memoryBytes: 2 ** 33, gpuCount: 2, gpuMemoryBytes: 2 ** 35, executor: 'docker' };
    await insert(store, { id: 'big', resources: needs });
    const exact = { cpuMillis: 2000, memoryBytes: 2 ** 33, gpuCount: 2, gpuMemoryBytes: 2 ** 35, executors: ['docker'] };
    const short = [{ cpuMillis: 1999 }, { memoryBytes: 2 ** 33 - 1 }, { gpuCount: 1 }, { gpuMemoryBytes: 2 ** 35 - 1 }, { executors: ['process'] }];
    for (const less of short) expect(await claim(store, { capacity: { ...exact, ...less } }), JSON.stringify(less)).toEqual([]);
    expect(ids(await claim(store, { capacity: exact }))).toEqual(['big']);

    await insert(store, { id: 'anywhere' }, { id: 'half-cpu', resources: { cpuMillis: 0.5 } }, { id: 'gpu-q', queue: 'gpu' }, { id: 'draft', status: 'created' });
    const none = { cpuMillis: 0, memoryBytes: 0, gpuCount: 0, gpuMemoryBytes: 0, executors: [] };
    expect(ids(await claim(store, { capacity: none }))).toEqual(['anywhere']);
    expect(ids(await claim(store, { capacity: { ...none, cpuMillis: 0.5 } }))).toEqual(['half-cpu']);
    expect(await claim(store, { queues: [] })).toEqual([]);
    expect(await claim(store, { queues: ['gpu'], limit: 0 })).toEqual([]);
    expect(ids(await claim(store, { queues: ['other', 'gpu'] }))).toEqual(['gpu-q']);

    await store.insertTasks([{ task: { ...queued({ id: 'later' }).task, eligibleAt: NOW + 500 }, secrets: null }]);
    expect(await claim(store, { now: NOW + 499 })).toEqual([]);
    expect(ids(await claim(store, { now: NOW + 500 }))).toEqual(['later']);
    expect((await store.getTask('draft'))!.status).toBe('created');
  });

  it('claims each task exactly once among 8 concurrent claimers', async () => {
    const batch = Array.from({ length: 400 }, (_, i) => queued({ id: `c-${String(i).padStart(3, '0')}`, priority: i % 5 }));
    await store.insertTasks(batch);
    // On PostgreSQL each claimer is its own store, as if in its own server instance.
    const claimers = engine === 'postgres' ? await Promise.all(Array.from({ length: 8 }, () => PostgresStore.open(db!.url))) : Array(8).fill(store);
    try {
      const claimedBy = await Promise.all(
        claimers.map(async (claimer: TaskStore, n) => {
          const mine: string[] = [];
          for (;;) {
            const got = await claim(claimer, { workerId: `w${n}`, limit: 1 + (n % 7) });
            if (got.length === 0) return mine;
            mine.push(...ids(got));
          }
        }),
      );
      const all = claimedBy.flat();
      expect(all).toHaveLength(400);
      expect(new Set(all).size).toBe(400);
      expect(await store.countTasks({ statuses: ['queued'] })).toBe(0);
      expect(claimedBy.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      for (const [n, mine] of claimedBy.entries()) expect(await store.countTasks({ workerId: `w${n}` })).toBe(mine.length);
      const claimRows = await Promise.all(all.map((id) => store.statusHistory(id)));
      expect(claimRows.every((rows) => rows.filter((row) => row.to === 'assigned').length === 1)).toBe(true);
    } finally {
      if (engine === 'postgres') await Promise.all(claimers.map((claimer) => claimer.close()));
    }
  });

  it('claims for hand-offs in the transaction that inserts the tasks', async () => {
    await insert(store, { id: 'waiting', priority: 1 }, { id: 'draft', status: 'created' });
    const handOff = (workerId: string, queues: string[], limit: number) => ({ workerId, queues, capacity: ROOMY, limit, now: NOW + 5, leaseMs: 1000 });
    const claimed = await store.insertTasks(
      [queued({ id: 'new-1' }, NOW + 5), queued({ id: 'new-gpu', queue: 'gpu' }, NOW + 5), queued({ id: 'new-2' }, NOW + 5)],
      [handOff('w1', ['default'], 1), handOff('w2', ['gpu'], 5), handOff('w3', ['default'], 5), handOff('w4', ['default'], 1)],
    );
    // Each hand-off is a claim like any other, in order: by priority, then age, among all that fit.
    expect(claimed.map(ids)).toEqual([['waiting'], ['new-gpu'], ['new-1', 'new-2'], []]);
    for (const [id, workerId] of [['new-1', 'w3'], ['new-gpu', 'w2']] as const) {
      expect(await store.getTask(id)).toMatchObject({ status: 'assigned', workerId, leaseExpiresAt: NOW + 1005, statusChangedAt: NOW + 5 });
      expect((await store.statusHistory(id)).map(({ from, to, at, workerId: by }) => [from, to, at, by])).toEqual([
        [null, 'queued', NOW + 5, null],
        ['queued', 'assigned', NOW + 5, workerId],
      ]);
    }
    expect((await store.getTask('draft'))!.status).toBe('created');
    expect(await store.insertTasks([queued({ id: 'alone' })])).toEqual([]);
  });

  it('claims nothing for hand-offs when their insert fails', async () => {
    await insert(store, { id: 'taken' }, { id: 'waiting' });
    const handOff = { workerId: 'w1', queues: ['default'], capacity: ROOMY, limit: 5, now: NOW, leaseMs: 1000 };
    await expect(store.insertTasks([queued({ id: 'fresh' }), queued({ id: 'taken' })], [handOff])).rejects.toThrow();
    expect(await store.countTasks({ statuses: ['queued'] })).toBe(2);
    expect(await store.getTask('fresh')).toBeUndefined();
  });

  it('renews the leases of the active tasks a worker holds', async () => {
    await insert(store, { id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }, { id: 'other' });
    await claim(store, { workerId: 'w1', limit: 4 });
    await claim(store, { workerId: 'w2' });
    const move = (taskId: string, from: 'assigned' | 'running', to: 'running' | 'completed') =>
      store.changeStatus({ taskId, from, to, at: NOW, reason: null, message: null, patch: {} });
    await move('b', 'assigned', 'running');
    await move('c', 'assigned', 'running');
    await move('c', 'running', 'completed');
    const leases = async () => Object.fromEntries((await store.listTasks({}, { limit: 10, offset: 0 })).map((t) => [t.id, t.leaseExpiresAt]));
    // Leases ending at NOW + 30 000 are not yet due when only those ending before it are.
    expect(await store.renewLeases('w1', NOW + 99_000, NOW + 30_000)).toBe(0);
    expect(await store.renewLeases('w1', NOW + 99_000, NOW + 30_001)).toBe(3);
    expect(await leases()).toEqual({ a: NOW + 99_000, b: NOW + 99_000, c: NOW + 30_000, d: NOW + 99_000, other: NOW + 30_000 });
    expect(await store.renewLeases('nobody', NOW, NOW + 1)).toBe(0);
    // Only the tasks named, when named: those the worker says it holds.
    expect(await store.renewLeases('w1', NOW + 120_000, NOW + 100_000, ['a', 'other', 'c', 'missing'])).toBe(1);
    expect(await store.renewLeases('w1', NOW + 120_000, NOW + 100_000, [])).toBe(0);
    expect(await leases()).toEqual({ a: NOW + 120_000, b: NOW + 99_000, c: NOW + 30_000, d: NOW + 99_000, other: NOW + 30_000 });
  });

  it("tells which of the given tasks are a worker's active ones", async () => {
    await insert(store, { id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'queued' });
    await claim(store, { workerId: 'w1', limit: 2 });
    await claim(store, { workerId: 'w2' });
    await store.changeStatus({ taskId: 'b', from: 'assigned', to: 'completed', at: NOW, reason: null, message: null, patch: {} });
    expect((await store.activeTaskIds('w1', ['a', 'b', 'c', 'queued', 'missing', "o'quote"])).sort()).toEqual(['a']);
    expect(await store.activeTaskIds('w2', ['c'])).toEqual(['c']);
    expect(await store.activeTaskIds('w1', [])).toEqual([]);
  });

  it('finds active tasks whose lease ran out or whose deadline passed', async () => {
    await insert(store, { id: 'lease' }, { id: 'deadline', resources: { maxExecutionSeconds: 10 } }, { id: 'fine', resources: { maxExecutionSeconds: 100 } }, { id: 'done' }, { id: 'waiting' });
    await claim(store, { limit: 4, leaseMs: 60_000 });
    const set = (taskId: string, patch: object) => store.changeStatus({ taskId, from: 'assigned', to: 'assigned', at: NOW, reason: null, message: null, patch });
    await set('lease', { leaseExpiresAt: NOW + 5_000 });
    await set('deadline', { startedAt: NOW });
    await set('fine', { startedAt: NOW });
    await store.changeStatus({ taskId: 'done', from: 'assigned', to: 'completed', at: NOW, reason: null, message: null, patch: { leaseExpiresAt: NOW } });
    const at = NOW + 10_001;
    expect(ids(await store.findExpired(at, 10)).sort()).toEqual(['deadline', 'lease']);
    expect(await store.findExpired(at, 1)).toHaveLength(1);
    expect(await store.findExpired(NOW + 5_000, 10)).toEqual([]);
  });

  it('appends logs in order and reads them by page', async () => {
    await insert(store, { id: 't' }, { id: 'u' });
    const line = (message: string, stream: 'stdout' | 'stderr' = 'stdout') => ({ at: NOW, stream, level: 'info', message });
    await store.appendLogs('t', [line('one'), line('två', 'stderr'), line('three')]);
    await store.appendLogs('u', [line('other')]);
    await store.appendLogs('t', [line('four'), line('{"five", NULL}\\')]);
    await store.appendLogs('t', []);
    const all = await store.readLogs('t', 0, 100);
    expect(all.map((l) => l.message)).toEqual(['one', 'två', 'three', 'four', '{"five", NULL}\\']);
    expect(all[1]).toEqual({ seq: expect.any(Number), at: NOW, stream: 'stderr', level: 'info', message: 'två' });
    expect(all.every((l, i) => i === 0 || l.seq > all[i - 1]!.seq)).toBe(true);
    const page = await store.readLogs('t', all[1]!.seq, 2);
    expect(page.map((l) => l.message)).toEqual(['three', 'four']);
    expect(await store.readLogs('t', all[4]!.seq, 10)).toEqual([]);
    expect(await store.readLogs('t', 0, -1)).toEqual(all);
  });

  it("stores a run's numbered log lines once, however often they are sent", async () => {
    await insert(store, { id: 't' });
    const line = (n: number | undefined, message = `line ${n}`) => ({ at: NOW, stream: 'stdout' as const, level: 'info', message, n });
    expect(await store.appendLogs('t', [line(1), line(2)], 'run-a')).toBe(2);
    // Sent again, with one more: only the new one is stored.
    expect(await store.appendLogs('t', [line(1), line(2), line(3)], 'run-a')).toBe(1);
    expect(await store.appendLogs('t', [line(3)], 'run-a')).toBe(0);
    // Lines from elsewhere in between do not hide where the run stands.
    expect(await store.appendLogs('t', [line(undefined, 'from the API')])).toBe(1);
    expect(await store.appendLogs('t', [line(2), line(4)], 'run-a')).toBe(1);
    // Another run numbers from 1 again; unnumbered lines are always new.
    expect(await store.appendLogs('t', [line(1, 'second run'), line(undefined, 'unnumbered')], 'run-b')).toBe(2);
    expect(await store.appendLogs('t', [line(undefined, 'unnumbered')], 'run-b')).toBe(1);
    const messages = (await store.readLogs('t', 0, 100)).map((l) => l.message);
    expect(messages).toEqual(['line 1', 'line 2', 'line 3', 'from the API', 'line 4', 'second run', 'unnumbered', 'unnumbered']);
  });

  it('keeps workers: upsert, get, list, touch, delete', async () => {
    const w2 = worker('w2', NOW + 1);
    await store.upsertWorker(w2);
    await store.upsertWorker(worker('w1', NOW));
    expect(await store.getWorker('w2')).toEqual(w2);
    expect(await store.getWorker('nope')).toBeUndefined();
    const changed = worker('w2', NOW + 50, { name: 'renamed', queues: ['x'], labels: {}, executors: ['docker'], lastHeartbeatAt: NOW + 60 });
    await store.upsertWorker(changed);
    expect(await store.getWorker('w2')).toEqual({ ...changed, registeredAt: NOW + 1 });
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['w1', 'w2']);
    expect(await store.touchWorker('w1', NOW + 70)).toBe(true);
    expect(await store.touchWorker('nope', NOW)).toBe(false);
    expect((await store.getWorker('w1'))!.lastHeartbeatAt).toBe(NOW + 70);
    expect(await store.deleteWorker('w1')).toBe(true);
    expect(await store.deleteWorker('w1')).toBe(false);
    expect((await store.listWorkers()).map((w) => w.id)).toEqual(['w2']);
  });

  it('forgets workers silent for long that hold no active task', async () => {
    await store.upsertWorker(worker('silent', NOW, { lastHeartbeatAt: NOW }));
    await store.upsertWorker(worker('silent-busy', NOW, { lastHeartbeatAt: NOW }));
    await store.upsertWorker(worker('silent-done', NOW, { lastHeartbeatAt: NOW }));
    await store.upsertWorker(worker('alive', NOW, { lastHeartbeatAt: NOW + 500 }));
    await insert(store, { id: 'held' }, { id: 'finished' });
    await claim(store, { workerId: 'silent-busy' });
    await claim(store, { workerId: 'silent-done' });
    await store.changeStatus({ taskId: 'finished', from: 'assigned', to: 'completed', at: NOW, reason: null, message: null, patch: {} });
    expect(await store.deleteSilentWorkers(NOW + 100)).toBe(2);
    expect((await store.listWorkers()).map((w) => w.id).sort()).toEqual(['alive', 'silent-busy']);
    expect(await store.deleteSilentWorkers(NOW + 100)).toBe(0);
  });

  it('keeps queues and counts what waits in each', async () => {
    expect(await store.ensureQueue('gpu', NOW)).toEqual({ name: 'gpu', createdAt: NOW });
    expect(await store.ensureQueue('gpu', NOW + 1)).toEqual({ name: 'gpu', createdAt: NOW });
    for (const name of ['a', 'B', '_x']) await store.ensureQueue(name, NOW);
    expect((await store.listQueues()).map((q) => q.name)).toEqual(['B', '_x', 'a', 'default', 'gpu']);
    expect((await store.listQueues())[3]).toEqual({ name: 'default', createdAt: 0 });
    await insert(store, { queue: 'gpu' }, { queue: 'gpu' }, {}, { status: 'created' });
    await claim(store, { queues: ['gpu'], limit: 1 });
    expect(await store.queueDepths()).toEqual({ B: 0, _x: 0, a: 0, default: 1, gpu: 1 });
  });

  it('counts tasks by status and by type', async () => {
    expect(await store.countByStatus()).toEqual({});
    await insert(store, { type: 'x' }, { type: 'x' }, { type: 'y', status: 'created' });
    await claim(store, { limit: 1 });
    expect(await store.countByStatus()).toEqual({ assigned: 1, queued: 1, created: 1 });
    expect(await store.countByType()).toEqual({ x: 2, y: 1 });
  });

  it('has every migration applied once opened', async () => {
    expect(await migrateDatabase(db!.url)).toBe(0);
  });
});
