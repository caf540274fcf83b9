import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ExecutionSlots } from '../src/agent/execution-slots.js';
import { ReportOutbox } from '../src/agent/report-outbox.js';
import type { WireReport } from '../src/agent/server-client.js';
import { TaskRun, type StopReason } from '../src/agent/task-run.js';
import { newTask } from '../src/core/new-task.js';
import type { ExecutionContext, ExecutionOutcome, Executor } from '../src/executors/executor.js';

/** Runs until told to stop, and says what it saw. */
class UntilStopped implements Executor {
  readonly name = 'process';
  readonly started: string[] = [];
  readonly stopReasons: unknown[] = [];

  run(context: ExecutionContext): Promise<ExecutionOutcome> {
    this.started.push(context.task.id);
    return new Promise((resolve) => {
      context.signal.addEventListener('abort', () => {
        this.stopReasons.push(context.signal.reason);
        resolve({ status: 'stopped' });
      });
    });
  }
}

function setUp(slotCount: number) {
  const delivered: WireReport[] = [];
  const outbox = new ReportOutbox(
    async (reports) => {
      delivered.push(...reports);
      return reports.map(({ taskId }) => ({ taskId, ok: true }));
    },
    { maxBatch: 100, logDelayMs: 0 },
    { onRefused: () => {}, onSendError: () => {} },
  );
  const executor = new UntilStopped();
  const slots = new ExecutionSlots(slotCount);
  const workRoot = mkdtempSync(`${tmpdir()}/taskhub-task-run-`);
  const newRun = (name: string) =>
    new TaskRun({ task: newTask({ name }, Date.now()), secrets: null }, executor, outbox, () => ({ put: async () => {}, get: async () => undefined }), {
      stopGraceMs: 100,
      workRoot,
    });
  const finalStatus = (run: TaskRun) => delivered.filter((report) => report.taskId === run.taskId).map((report) => report.status);
  return { outbox, executor, slots, newRun, finalStatus };
}

describe('a task run and its slot', () => {
  it('runs one task per slot; one stopped while it waits never starts, and gives its place up', async () => {
    const { outbox, executor, slots, newRun, finalStatus } = setUp(1);
    const [first, second, third] = [newRun('first'), newRun('second'), newRun('third')];
    const running = [first, second, third].map((run) => run.execute(slots));
    await new Promise((resolve) => setImmediate(resolve));
    expect(executor.started).toEqual([first.taskId]);

    second.stop('released'); // cancelled on the server: nothing more to say
    await running[1];
    first.stop('shutdown'); // the agent stops: handed back
    await running[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(executor.started).toEqual([first.taskId, third.taskId]); // the slot went to the third
    third.stop('timeout');
    await running[2];
    await outbox.drained();

    expect(executor.stopReasons).toEqual<StopReason[]>(['shutdown', 'timeout']);
    expect(finalStatus(first)).toEqual(['queued']);
    expect(finalStatus(second)).toEqual([]);
    expect(finalStatus(third)).toEqual(['timeout']);
  });

  it('reports a task stopped before it got a slot as its reason says, without starting it', async () => {
    const { outbox, executor, slots, newRun, finalStatus } = setUp(1);
    const holder = newRun('holder');
    const holding = holder.execute(slots);
    const late = newRun('late');
    late.stop('timeout');
    await late.execute(slots);
    holder.stop('released');
    await holding;
    await outbox.drained();
    expect(executor.started).toEqual([holder.taskId]);
    expect(finalStatus(late)).toEqual(['timeout']);
    expect(finalStatus(holder)).toEqual([]);
  });
});
