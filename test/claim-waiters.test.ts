import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClaimWaiters, type WaitingClaim } from '../src/core/claim-waiters.js';
import { newTask, type TaskInput } from '../src/core/new-task.js';
import { NOW, ROOMY } from './helpers/task-fixtures.js';

const claim = (workerId: string, overrides: Partial<WaitingClaim> = {}): WaitingClaim => ({
  workerId,
  queues: ['default'],
  capacity: ROOMY,
  limit: 1,
  leaseMs: 30_000,
  ...overrides,
});
const task = (input: TaskInput = {}) => newTask(input, NOW);

describe('ClaimWaiters: hand-off to sleeping claimers', () => {
  let waiters: ClaimWaiters;
  beforeEach(() => {
    vi.useFakeTimers();
    waiters = new ClaimWaiters();
  });
  afterEach(() => vi.useRealTimers());

  it('reserves the longest-sleeping claimer a task fits, and wakes it with what was claimed for it', async () => {
    const first = waiters.take(claim('w1'));
    const second = waiters.take(claim('w2'));
    const firstSleep = first.sleep(60_000);
    void second.sleep(60_000);
    const new1 = task();
    const handOffs = waiters.handOff([new1]);
    expect(handOffs.map((handOff) => handOff.claim.workerId)).toEqual(['w1']);
    handOffs[0]!.deliver([new1]);
    expect(await firstSleep).toEqual([new1]);
    // The other sleeper is left for the next task.
    expect(waiters.handOff([task()]).map((handOff) => handOff.claim.workerId)).toEqual(['w2']);
  });

  it('keeps a reserved claimer asleep past its timeout and its abort until the delivery', async () => {
    const ticket = waiters.take(claim('w1'));
    const abort = new AbortController();
    let woke: unknown;
    void ticket.sleep(1_000, abort.signal).then((handed) => (woke = handed));
    const [handOff] = waiters.handOff([task()]);
    vi.advanceTimersByTime(5_000);
    abort.abort();
    await vi.runAllTimersAsync();
    expect(woke).toBeUndefined();
    // Neither a notification nor a shutdown takes a reserved claimer away from its delivery.
    waiters.notify('default', task().resources);
    waiters.wakeAll();
    await Promise.resolve();
    expect(woke).toBeUndefined();
    handOff!.deliver([]);
    await vi.runAllTimersAsync();
    expect(woke).toEqual([]);
  });

  it('reserves only sleeping claimers that serve the queue and fit the task, one per task up to its limit', async () => {
    const gpuOnly = waiters.take(claim('gpu-worker', { queues: ['gpu'] }));
    const small = waiters.take(claim('small', { capacity: { ...ROOMY, cpuMillis: 100 } }));
    const batcher = waiters.take(claim('batcher', { limit: 2 }));
    const busy = waiters.take(claim('busy'));
    for (const ticket of [gpuOnly, small, batcher]) void ticket.sleep(60_000);
    // `busy` never sleeps: it is still looking at the store, and the queued event flags it instead.
    const big = { resources: { cpuMillis: 500 } };
    const handOffs = waiters.handOff([task(big), task(big), task(big), task({ status: 'created' })]);
    expect(handOffs.map((handOff) => [handOff.claim.workerId, handOff.claim.limit])).toEqual([['batcher', 2]]);
    busy.release();
  });

  it('hands nothing to a claimer that is not asleep', async () => {
    const ticket = waiters.take(claim('w1'));
    waiters.notify('default', task().resources);
    expect(await ticket.sleep(60_000)).toEqual([]);
    expect(waiters.handOff([task()])).toEqual([]);
  });
});
