import type { Task } from '../domain/task.js';
import { renewalWindowMs } from '../domain/worker.js';
import type { Clock, TaskStore } from './ports.js';
import type { TaskService } from './task-service.js';

/**
 * A worker silent this long that holds no task is forgotten (it no longer shows in the worker
 * list): ClearML's default worker timeout (`workers.register`, 600 s). Agents register anew at
 * each start, so without it the list only grows. A forgotten worker that comes back registers
 * again under its id.
 */
const SILENT_WORKER_MS = 600_000;
/** Looked for at most once a minute: it is a write, even when it deletes nothing. */
const FORGET_EVERY_MS = 60_000;

export interface LeaseMonitorSettings {
  /** How often to sweep. */
  intervalMs: number;
  leaseMs: number;
}

/**
 * Takes back tasks whose worker went silent (lease expired: back to the queue with
 * retry count + 1, or failed once retries are spent), ends tasks that ran past their
 * max execution time as `timeout`, and forgets workers long silent.
 *
 * A lease can also run out while its worker heartbeats: the worker did not list the task
 * because it never got it (the answer to its claim was lost). Then the task goes back to its
 * queue with no retry spent. Told apart by the worker's last heartbeat: one that came while the
 * lease was due for renewal would have renewed it had the worker listed the task.
 */
export class LeaseMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastForget = 0;

  constructor(
    private readonly store: TaskStore,
    private readonly tasks: TaskService,
    private readonly clock: Clock,
    private readonly settings: LeaseMonitorSettings,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined, this.onError)
        .finally(() => (this.running = undefined));
    }, this.settings.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks it moved. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    if (now - this.lastForget >= FORGET_EVERY_MS) {
      this.lastForget = now;
      await this.store.deleteSilentWorkers(now - SILENT_WORKER_MS);
    }
    const expired = await this.store.findExpired(now, 500);
    const lastHeartbeats = new Map<string, number | undefined>();
    let moved = 0;
    for (const task of expired) {
      try {
        await this.expire(task, now, await this.lastHeartbeat(task.workerId, lastHeartbeats));
        moved++;
      } catch {
        // Lost a race with the worker's own report or another instance's monitor: theirs stands.
      }
    }
    return moved;
  }

  private async lastHeartbeat(workerId: string | null, known: Map<string, number | undefined>): Promise<number | undefined> {
    if (workerId === null) return undefined;
    if (!known.has(workerId)) known.set(workerId, (await this.store.getWorker(workerId))?.lastHeartbeatAt);
    return known.get(workerId);
  }

  private async expire(task: Task, now: number, lastHeartbeatAt: number | undefined): Promise<void> {
    const limit = task.resources.maxExecutionSeconds * 1000;
    if (limit > 0 && task.startedAt !== null && task.startedAt + limit < now) {
      await this.tasks.changeStatus(task.id, 'timeout', {
        reason: 'max execution time exceeded',
        message: `ran longer than ${task.resources.maxExecutionSeconds} s`,
        current: task,
        patch: { error: `max execution time of ${task.resources.maxExecutionSeconds} s exceeded` },
      });
      return;
    }
    const dueSince = (task.leaseExpiresAt ?? 0) - renewalWindowMs(this.settings.leaseMs);
    if (lastHeartbeatAt !== undefined && lastHeartbeatAt > dueSince) {
      await this.tasks.changeStatus(task.id, 'queued', {
        reason: 'not held by its worker',
        message: `worker ${task.workerId} heartbeats without this task: it never got it`,
        current: task,
        patch: { eligibleAt: now },
      });
      return;
    }
    const lost = `lease expired: worker ${task.workerId ?? '?'} stopped heartbeating`;
    if (task.retryCount < task.maxRetries) {
      await this.tasks.changeStatus(task.id, 'queued', {
        reason: 'lease expired',
        message: lost,
        current: task,
        patch: { retryCount: task.retryCount + 1, retryReason: lost, eligibleAt: now },
      });
    } else {
      await this.tasks.changeStatus(task.id, 'failed', {
        reason: 'lease expired',
        message: lost,
        current: task,
        patch: { error: `${lost}; retries exhausted (${task.maxRetries})` },
      });
    }
  }
}
