// The protocol between bench/e2e.mjs and a peer's worker processes. A peer's workers run in
// child processes, not worker threads, because taskhub's agents are separate processes
// (`taskhub worker`): each side then gets the same isolation — its own event loop, heap, GC and
// database connections — and pays the same inter-process costs.
//   parent: startWorkerProcesses() forks N children with a JSON config, waits for "ready" from all;
//   child:  runAsWorkerProcess(start) starts the peer's worker, says "ready", and stops it on
//           the parent's "stop" message or when the parent goes away.
import { Child, stopAll } from './child.mjs';

/**
 * Starts `count` children running `script` (config plus `index` as argv[2]); resolves when every
 * one is ready to take jobs. Their stop is registered with `cleanup`.
 */
export async function startWorkerProcesses({ cleanup, label, script, count, config }) {
  const children = Array.from(
    { length: count },
    (_, index) => new Child(`${label}-${index}`, [script, JSON.stringify({ ...config, index })], { ipc: true }),
  );
  cleanup.defer(`${count} x ${label}`, () => stopAll(children));
  await Promise.all(children.map((child) => child.message('ready')));
  return children;
}

/** Child side: `start(config)` starts the worker and resolves with an async stop function. */
export async function runAsWorkerProcess(start) {
  const stop = await start(JSON.parse(process.argv[2]));
  let stopping = null;
  const shutdown = () => {
    stopping ??= stop().then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('message', (message) => {
    if (message?.type === 'stop') shutdown();
  });
  process.on('disconnect', shutdown);
  process.send({ type: 'ready' });
}
