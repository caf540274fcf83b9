import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { Agent } from './agent/agent.js';
import { parseAgentOptions } from './agent/agent-options.js';
import { createExecutors } from './agent/executor-set.js';
import { resolveResources } from './agent/machine-resources.js';
import { buildServer } from './api/server.js';
import { isLoopback, type Config } from './config.js';
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
    {
      tasks,
      workers,
      clock: systemClock,
      apiToken: config.apiToken,
      workerAuthToken: config.workerAuthToken,
      maxClaimWaitMs: config.maxClaimWaitMs,
    },
    { logLevel: config.logLevel, isReady: async () => !closing && (await store.countTasks({ ids: [] })) === 0 },
  );
  const monitor = new LeaseMonitor(store, tasks, systemClock, { intervalMs: config.leaseCheckMs, leaseMs: config.leaseMs }, (error) =>
    app.log.error({ err: error }, 'lease sweep failed'),
  );
  await workers.resumeLeases();
  const url = await app.listen({ host: config.host, port: config.port });
  monitor.start();
  app.log.info({ databaseUrl: redactUrl(config.databaseUrl), engine: store.engine }, 'taskhub is serving');
  const worker = config.localWorker ? await startLocalWorker(config, app) : undefined;

  return {
    app,
    url,
    async close() {
      closing = true;
      await worker?.stop();
      workers.shutdown();
      await app.close();
      await monitor.stop();
      await store.close();
      await events.close();
    },
  };
}

/**
 * The worker `npm start` runs beside the server: the same agent as `taskhub worker`, talking to
 * this server over loopback HTTP like any other worker, with the machine's resources.
 */
async function startLocalWorker(config: Config, app: FastifyInstance): Promise<Agent> {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const defaults = parseAgentOptions([], {}, `${os.hostname()}-local`, os.tmpdir());
  // A process task runs any command it names: reachable from beyond this machine, that is
  // remote code execution for whoever can submit (the Mimir API has its own token, or none).
  const exposed = !isLoopback(config.host);
  if (exposed) app.log.warn('the local worker runs no process tasks while the server listens beyond loopback; start a `taskhub worker` for them');
  const options = {
    ...defaults,
    serverUrl: `http://${localAddress(config.host)}:${port}`,
    token: config.apiToken,
    concurrency: config.localWorkerConcurrency,
    executors: exposed ? defaults.executors.filter((name) => name !== 'process') : defaults.executors,
  };
  const agent = new Agent(options, await createExecutors(options), await resolveResources({}), app.log.child({ component: 'local-worker' }));
  await agent.start();
  return agent;
}

/** Where this machine reaches a server listening on `host`. */
function localAddress(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** A database URL without its password, for the log. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
