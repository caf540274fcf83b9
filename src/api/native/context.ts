import type { TaskService } from '../../core/task-service.js';
import type { WorkerService } from '../../core/worker-service.js';
import type { Clock } from '../../core/ports.js';

/** What the HTTP layer gets from the composition root: use cases, never a store. */
export interface ApiContext {
  tasks: TaskService;
  workers: WorkerService;
  clock: Clock;
  apiToken: string;
  /** Mimir AIP's WORKER_AUTH_TOKEN for /api/worktasks*; empty = no authentication. */
  workerAuthToken: string;
  maxClaimWaitMs: number;
}
