// One pg-boss worker process of bench/e2e.mjs (see pg-boss.mjs).
import PgBoss from 'pg-boss';
import { runAsWorkerProcess } from './worker-processes.mjs';

await runAsWorkerProcess(async ({ connectionString, queue, concurrency, batchSize }) => {
  // One connection per polling loop plus one for the completions that run alongside.
  const boss = new PgBoss({ connectionString, migrate: false, supervise: false, schedule: false, max: concurrency + 1 });
  boss.on('error', (error) => console.error(error));
  await boss.start();
  for (let loop = 0; loop < concurrency; loop++) {
    await boss.work(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async () => {});
  }
  return () => boss.stop({ graceful: true, wait: true });
});
