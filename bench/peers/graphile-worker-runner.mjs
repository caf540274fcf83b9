// One graphile-worker runner process of bench/e2e.mjs; its options come from graphile-worker.mjs.
import { run } from 'graphile-worker';
import { runAsWorkerProcess } from './worker-processes.mjs';

await runAsWorkerProcess(async ({ index: _index, ...options }) => {
  const runner = await run({
    ...options,
    // One connection per concurrent job plus the LISTEN one and a spare, as its docs advise.
    maxPoolSize: options.concurrency + 2,
    noHandleSignals: true,
    taskList: { noop: async () => {} },
  });
  return () => runner.stop();
});
