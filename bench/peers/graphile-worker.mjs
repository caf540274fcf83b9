// graphile-worker on PostgreSQL: a fresh database (schema installed once here, before the
// runners start), jobs added with addJobs, N runner processes each with the given concurrency
// and the batching options of graphile-worker's own performance page
// (worker.graphile.org/docs/performance, which reached ~183k jobs/s on a large server with them):
//   localQueue.size 500       — a runner locks and fetches up to 500 jobs per query, not 1 per job;
//   completeJobBatchDelay 0   — completions of the same tick go out in one statement;
//   failJobBatchDelay 0       — the same for failures;
//   useNodeTime               — no round trip for the database's clock;
//   prepared statements       — its default, kept.
// Completed jobs are deleted by graphile-worker, so completed = jobs - rows left.
import { fileURLToPath } from 'node:url';
import { makeWorkerUtils } from 'graphile-worker';
import { timeDrain } from './drain.mjs';
import { createDatabase } from './postgres.mjs';
import { startWorkerProcesses } from './worker-processes.mjs';

const OPTIONS = {
  useNodeTime: true,
  preset: { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
};

export const graphileWorker = {
  name: 'graphile-worker',
  settings: ({ workers, concurrency }) =>
    `PostgreSQL; ${workers} processes x run() concurrency ${concurrency}; ${JSON.stringify(OPTIONS.preset.worker)}; addJobs`,

  async run({ jobs, workers, concurrency, adminUrl, cleanup, signal, status }) {
    const connectionString = await createDatabase({ cleanup, adminUrl, label: 'gw' });
    const utils = await makeWorkerUtils({ connectionString });
    cleanup.defer('graphile-worker utils', () => utils.release());
    await utils.migrate();
    const children = await startWorkerProcesses({
      cleanup,
      label: 'graphile-worker',
      script: fileURLToPath(new URL('./graphile-worker-runner.mjs', import.meta.url)),
      count: workers,
      config: { ...OPTIONS, connectionString, concurrency },
    });
    return timeDrain({
      jobs,
      children,
      signal,
      status,
      submitChunk: (indexes) => utils.addJobs(indexes.map((i) => ({ identifier: 'noop', payload: { i } }))),
      countCompleted: async () => {
        const { rows } = await utils.withPgClient((client) => client.query('SELECT count(*)::int AS left FROM graphile_worker._private_jobs'));
        return jobs - rows[0].left;
      },
    });
  },
};
