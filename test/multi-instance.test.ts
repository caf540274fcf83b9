import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_POSTGRES } from './helpers/databases.js';
import { call, databaseFor, startTestServer } from './helpers/server.js';

// Two server instances on one PostgreSQL database, as in a scaled-out deployment.
describe.skipIf(SKIP_POSTGRES)('two server instances on one PostgreSQL database', () => {
  let first: Awaited<ReturnType<typeof startTestServer>>;
  let second: Awaited<ReturnType<typeof startTestServer>>;

  beforeAll(async () => {
    const database = await databaseFor('postgres');
    // No periodic re-check within the test: only a notification can wake the claim.
    first = await startTestServer({ ...database, claimRecheckMs: 600_000 });
    second = await startTestServer({ ...database, claimRecheckMs: 600_000 });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  it('wakes a worker long-polling one instance when a task is submitted to the other', async () => {
    const registered = await call(first.url, 'POST', '/v1/workers', { name: 'w', queues: ['cross'] });
    const worker = registered.body.worker.id;
    const claim = call(first.url, 'POST', `/v1/workers/${worker}/claim`, { limit: 1, waitMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const submitted = await call(second.url, 'POST', '/v1/tasks', { queue: 'cross', name: 'from the other instance' });
    const claimed = await claim;
    expect(claimed.body.claims[0].task.id).toBe(submitted.body.id);
  });

  it('claims each task once across both instances', async () => {
    const queue = 'shared';
    await call(first.url, 'POST', '/v1/tasks/batch', { tasks: Array.from({ length: 100 }, (_, i) => ({ queue, name: `t${i}` })) });
    const servers = [first, second, first, second];
    const workers = await Promise.all(
      servers.map(async (server, i) => (await call(server.url, 'POST', '/v1/workers', { name: `w${i}`, queues: [queue] })).body.worker.id),
    );
    const seen: string[] = [];
    await Promise.all(
      workers.map(async (worker, i) => {
        for (;;) {
          const claimed = await call(servers[i]!.url, 'POST', `/v1/workers/${worker}/claim`, { limit: 5 });
          if (claimed.body.claims.length === 0) return;
          seen.push(...claimed.body.claims.map((c: any) => c.task.id));
        }
      }),
    );
    expect(seen).toHaveLength(100);
    expect(new Set(seen).size).toBe(100);
  });
});
