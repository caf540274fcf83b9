import { describe, expect, it } from 'vitest';
import { ReportOutbox } from '../src/agent/report-outbox.js';
import { ServerRefusal, type ReportResult, type WireReport } from '../src/agent/server-client.js';

/**
 * The agent's outbox on its own, with the network replaced by a scripted function: the server
 * end of it is tested for real in agent-e2e and agent-server-restart.
 */
function outbox(answer: (reports: WireReport[], call: number) => ReportResult[] | Error) {
  const sent: WireReport[][] = [];
  const refused: string[] = [];
  const box = new ReportOutbox(
    async (reports) => {
      sent.push(structuredClone(reports));
      const result = answer(reports, sent.length);
      if (result instanceof Error) throw result;
      return result;
    },
    { maxBatch: 1000, logDelayMs: 5 },
    { onRefused: (taskId) => refused.push(taskId), onSendError: () => {} },
  );
  return { box, sent, refused };
}

const ok = (reports: WireReport[]) => reports.map(({ taskId }) => ({ taskId, ok: true }));
const line = (message: string) => ({ at: 0, stream: 'stdout' as const, level: 'info', message });

describe('ReportOutbox', () => {
  it('folds log lines into the next status report of the same task, in order', async () => {
    const { box, sent } = outbox(ok);
    box.add({ taskId: 'a', logs: [line('1')] });
    box.add({ taskId: 'b', logs: [line('x')] });
    box.add({ taskId: 'a', logs: [line('2')] });
    box.add({ taskId: 'a', status: 'completed', result: { done: true } });
    box.add({ taskId: 'a', logs: [line('after')] });
    await box.drained();
    const all = sent.flat();
    expect(all.filter((report) => report.taskId === 'a')).toEqual([
      { taskId: 'a', logs: [line('1'), line('2')], status: 'completed', result: { done: true } },
      { taskId: 'a', logs: [line('after')] },
    ]);
    expect(all.filter((report) => report.taskId === 'b')).toEqual([{ taskId: 'b', logs: [line('x')] }]);
  });

  it('keeps retrying a request that fails until it goes through, losing nothing', async () => {
    const { box, sent } = outbox((reports, call) => (call <= 2 ? new Error('ECONNREFUSED') : ok(reports)));
    box.add({ taskId: 'a', status: 'running' });
    box.add({ taskId: 'a', status: 'completed' });
    await box.drained();
    expect(sent.length).toBeGreaterThanOrEqual(3);
    const delivered = sent.slice(2).flat();
    expect(delivered.map((report) => report.status)).toEqual(['running', 'completed']);
    expect(box.size).toBe(0);
  });

  it('drops what follows a refused report of that task, and only of that task', async () => {
    const { box, sent, refused } = outbox((reports, call) =>
      reports.map(({ taskId }) => (call === 1 && taskId === 'gone' ? { taskId, ok: false, error: { code: 'CONFLICT', message: 'cancelled' } } : { taskId, ok: true })),
    );
    box.add({ taskId: 'gone', status: 'running' });
    box.add({ taskId: 'kept', status: 'running' });
    await box.drained();
    box.add({ taskId: 'gone', status: 'completed' });
    box.add({ taskId: 'kept', status: 'completed' });
    await box.drained();
    expect(refused).toEqual(['gone']);
    expect(sent[1]!.map((report) => [report.taskId, report.status])).toEqual([
      ['gone', 'completed'],
      ['kept', 'completed'],
    ]);
  });

  it('gives up on a request the server refuses as malformed instead of retrying it forever', async () => {
    const { box, sent, refused } = outbox(() => new ServerRefusal(400, 'VALIDATION', 'bad report'));
    box.add({ taskId: 'a', status: 'running' });
    await box.drained();
    expect(sent).toHaveLength(1);
    expect(refused).toEqual(['a']);
  });

  it('splits log floods into reports the server accepts (≤ 10 000 lines each)', async () => {
    const { box, sent } = outbox(ok);
    for (let i = 0; i < 25_000; i++) box.add({ taskId: 'a', logs: [line(String(i))] });
    await box.drained();
    const reports = sent.flat();
    expect(Math.max(...reports.map((report) => report.logs!.length))).toBeLessThanOrEqual(10_000);
    expect(reports.flatMap((report) => report.logs!.map((l) => l.message))).toEqual(Array.from({ length: 25_000 }, (_, i) => String(i)));
  });
});
