import type { FastifyInstance } from 'fastify';
import { buildServer } from './api/server.js';
import type { Config } from './config.js';
import { LeaseMonitor } from './core/lease-monitor.js';
import type { Clock } from './core/ports.js';
import { TaskService } from './core/task-service.js';
import { WorkerService } from './core/worker-service.js';
import { BlobDirectory } from './store/blob-directory.js';
import { openStore } from './store/open-store.js';

export interface RunningServer {
  app: FastifyInstance;
  /** The address it listens on, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Stops taking requests, finishes those in flight, then closes the store. */
  close(): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now() };

/** The composition root: the only place that creates concrete classes. */
export async function startServer(config: Config): Promise<RunningServer> {
  const { store, events } = await openStore(config.databaseUrl);
  const blobs = new BlobDirectory(config.dataDir);
  const tasks = new TaskService(store, events, blobs, systemClock, { retryDelayMs: config.retryDelayMs });
  const workers = new WorkerService(store, tasks, events, systemClock, {
    leaseMs: config.leaseMs,
    recheckMs: config.claimRecheckMs,
  });
  let closing = false;
  const app = await buildServer(
    { tasks, workers, clock: systemClock, apiToken: config.apiToken, maxClaimWaitMs: config.maxClaimWaitMs },
    { logLevel: config.logLevel, isReady: async () => !closing && (await store.countTasks({ ids: [] })) === 0 },
  );
  const monitor = new LeaseMonitor(store, tasks, systemClock, config.leaseCheckMs, (error) =>
    app.log.error({ err: error }, 'lease sweep failed'),
  );
  const url = await app.listen({ host: config.host, port: config.port });
  monitor.start();
  app.log.info({ databaseUrl: redactUrl(config.databaseUrl), engine: store.engine }, 'taskhub is serving');

  return {
    app,
    url,
    async close() {
      closing = true;
      workers.shutdown();
      await app.close();
      await monitor.stop();
      await store.close();
      await events.close();
    },
  };
}

/** A database URL without its password, for the log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
