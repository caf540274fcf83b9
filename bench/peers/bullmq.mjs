// BullMQ on Redis: a fresh queue per run (obliterated afterwards, which deletes all its keys),
// jobs added with addBulk, N worker processes each running one Worker with the given
// concurrency and a no-op processor. Settings are BullMQ's defaults otherwise: a Worker fetches
// its next job in the same Redis call that marks the previous one completed, which is BullMQ's
// own form of batching; completed jobs are kept (as taskhub keeps its tasks), so the completed
// count is one ZCARD.
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { timeDrain } from './drain.mjs';
import { startWorkerProcesses } from './worker-processes.mjs';

/** ioredis options from redis://host:port. */
export function redisConnection(redisUrl) {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379) };
}

export const bullmq = {
  name: 'BullMQ',
  settings: ({ workers, concurrency }) => `Redis; ${workers} processes x Worker concurrency ${concurrency}; addBulk`,

  async run({ jobs, workers, concurrency, redisUrl, cleanup, signal, status }) {
    const connection = redisConnection(redisUrl);
    const queueName = `taskhub-bench-${process.pid}-${Date.now()}`;
    const queue = new Queue(queueName, { connection });
    cleanup.defer(`BullMQ queue ${queueName}`, async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });
    await queue.waitUntilReady();
    const children = await startWorkerProcesses({
      cleanup,
      label: 'bullmq-worker',
      script: fileURLToPath(new URL('./bullmq-worker.mjs', import.meta.url)),
      count: workers,
      config: { connection, queueName, concurrency },
    });
    return timeDrain({
      jobs,
      children,
      signal,
      status,
      submitChunk: (indexes) => queue.addBulk(indexes.map((i) => ({ name: 'noop', data: { i } }))),
      countCompleted: () => queue.getCompletedCount(),
    });
  },
};
