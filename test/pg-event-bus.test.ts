import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskEvent } from '../src/core/ports.js';
import { EVENT_CHANNEL, PgEventBus } from '../src/store/postgres/pg-event-bus.js';
import { SKIP_POSTGRES, postgresTestDatabase } from './helpers/databases.js';

/** Two buses on one database stand for two server instances. */
interface Instance {
  bus: PgEventBus;
  received: TaskEvent[];
  errors: unknown[];
}

async function instance(url: string): Promise<Instance> {
  const errors: unknown[] = [];
  const bus = await PgEventBus.connect(url, { onError: (error) => errors.push(error) });
  const received: TaskEvent[] = [];
  bus.subscribe((event) => received.push(event));
  return { bus, received, errors };
}

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const queuedEvent = (taskId: string): TaskEvent => ({ type: 'status_changed', taskId, from: null, to: 'queued', at: 1 });
const count = (events: TaskEvent[], taskId: string) => events.filter((e) => 'taskId' in e && e.taskId === taskId).length;

describe.skipIf(SKIP_POSTGRES)('PgEventBus', () => {
  let url: string;
  let a: Instance;
  let b: Instance;
  beforeEach(async () => {
    url = await postgresTestDatabase();
    [a, b] = await Promise.all([instance(url), instance(url)]);
  });
  afterEach(async () => {
    await Promise.all([a.bus.close(), b.bus.close()]);
  });

  it('delivers an event once on the publishing instance and once on the other', async () => {
    const event: TaskEvent = { type: 'task_queued', queue: 'gpu', resources: { cpuMillis: 1, memoryBytes: 2, gpuCount: 3, gpuMemoryBytes: 4, maxExecutionSeconds: 5, executor: null } };
    a.bus.publish(event);
    expect(a.received).toEqual([event]); // locally at once, before any round trip
    await waitFor(() => b.received.length > 0, 'the event on B');
    // B answers; notifications arrive in commit order, so once A has B's answer it has
    // also seen (and skipped) the echo of its own event.
    b.bus.publish(queuedEvent('answer'));
    await waitFor(() => count(a.received, 'answer') > 0, 'the answer on A');
    expect(a.received).toEqual([event, queuedEvent('answer')]);
    expect(b.received).toEqual([event, queuedEvent('answer')]);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('keeps an event too large for NOTIFY local and reports it', async () => {
    const huge = queuedEvent('x'.repeat(9000));
    a.bus.publish(huge);
    a.bus.publish(queuedEvent('small'));
    await waitFor(() => count(b.received, 'small') > 0, 'the small event on B');
    expect(a.received).toEqual([huge, queuedEvent('small')]);
    expect(b.received).toEqual([queuedEvent('small')]);
    expect(a.errors).toHaveLength(1);
    expect(String(a.errors[0])).toMatch(/not sent/);
  });

  it('sends the events of one turn together, every one of them, in order', async () => {
    // About 90 bytes each: 2,000 of them need more than twenty notifications of 8000 bytes.
    const events = Array.from({ length: 2_000 }, (_, i) => queuedEvent(`burst-${i}`));
    for (const event of events) a.bus.publish(event);
    await waitFor(() => b.received.length === events.length, 'the whole burst on B');
    expect(b.received).toEqual(events);
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('takes the one-event notifications of earlier releases', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const envelope = JSON.stringify({ from: 'an-older-instance', event: queuedEvent('legacy') });
      await admin.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, envelope]);
    } finally {
      await admin.end();
    }
    await waitFor(() => b.received.length > 0, 'the event on B');
    expect(b.received).toEqual([queuedEvent('legacy')]);
  });

  it('listens again after losing its connection', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = $1`,
        [`LISTEN ${EVENT_CHANNEL}`],
      );
      expect(killed.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await waitFor(() => a.errors.length > 0 && b.errors.length > 0, 'the lost connections to be reported');
    // Events sent while a listener is away are lost, so keep sending until one gets through.
    let n = 0;
    await waitFor(() => {
      a.bus.publish(queuedEvent(`retry-${n++}`));
      return b.received.length > 0;
    }, 'an event on B after reconnecting');
  });
});
