// pg-boss on PostgreSQL: a fresh database (schema and queue created here, before the workers
// start), jobs added with insert(), N worker processes each calling work() `concurrency` times
// (pg-boss 10 has no teamSize: each work() call is one polling loop) with `batchSize` jobs per
// fetch, completed together in one statement when the no-op handler returns.
// pg-boss polls (no LISTEN/NOTIFY) and its floor is pollingIntervalSeconds 0.5: a loop whose
// fetch came back in under 0.4 s waits out the rest of the 0.5 s even if jobs are left, so its
// throughput is at most workers x concurrency x batchSize x 2 per second, and the batch size
// decides. 20 000 jobs on this 2-core machine (busy, load 6-20): batchSize 10 gave 0.7k jobs/s;
// 50 and 100 both 1.4k-3.4k (median ~2.3k each); 250 gave 1.1k. Default (--pg-boss-batch): 100.
// Maintenance and cron (supervise, schedule) are off in every process: they are periodic
// housekeeping that a 20 000-job run would only pay for.
import { fileURLToPath } from 'node:url';
import PgBoss from 'pg-boss';
import { timeDrain } from './drain.mjs';
import { createDatabase } from './postgres.mjs';
import { startWorkerProcesses } from './worker-processes.mjs';

const QUEUE = 'noop';

export const pgBoss = {
  name: 'pg-boss',
  settings: ({ workers, concurrency, pgBossBatch }) =>
    `PostgreSQL; ${workers} processes x ${concurrency} work() loops, batchSize ${pgBossBatch}, pollingIntervalSeconds 0.5; insert`,

  async run({ jobs, workers, concurrency, pgBossBatch, adminUrl, cleanup, signal, status }) {
    const connectionString = await createDatabase({ cleanup, adminUrl, label: 'pgboss' });
    const boss = new PgBoss({ connectionString, supervise: false, schedule: false, max: 2 });
    boss.on('error', (error) => console.error(`  pg-boss: ${error.message}`));
    await boss.start();
    cleanup.defer('pg-boss client', () => boss.stop({ graceful: false }));
    await boss.createQueue(QUEUE);
    const children = await startWorkerProcesses({
      cleanup,
      label: 'pg-boss-worker',
      script: fileURLToPath(new URL('./pg-boss-worker.mjs', import.meta.url)),
      count: workers,
      config: { connectionString, queue: QUEUE, concurrency, batchSize: pgBossBatch },
    });
    const db = boss.getDb();
    return timeDrain({
      jobs,
      children,
      signal,
      status,
      submitChunk: (indexes) => boss.insert(indexes.map((i) => ({ name: QUEUE, data: { i } }))),
      countCompleted: async () => {
        const { rows } = await db.executeSql("SELECT count(*)::int AS done FROM pgboss.job WHERE name = $1 AND state = 'completed'", [QUEUE]);
        return rows[0].done;
      },
    });
  },
};
