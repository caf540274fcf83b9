// One BullMQ worker process of bench/e2e.mjs (see bullmq.mjs).
import { Worker } from 'bullmq';
import { runAsWorkerProcess } from './worker-processes.mjs';

await runAsWorkerProcess(async ({ connection, queueName, concurrency }) => {
  const worker = new Worker(queueName, async () => {}, { connection, concurrency });
  worker.on('error', (error) => console.error(error));
  await worker.waitUntilReady();
  return () => worker.close();
});
