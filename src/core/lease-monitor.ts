import type { Task } from '../domain/task.js';
import type { Clock, TaskStore } from './ports.js';
import type { TaskService } from './task-service.js';

/**
 * Takes back tasks whose worker went silent (lease expired: back to the queue with
 * retry count + 1, or failed once retries are spent) and ends tasks that ran past their
 * max execution time as `timeout`.
 */
export class LeaseMonitor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly tasks: TaskService,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined, this.onError)
        .finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks it moved. */
  async sweep(): Promise<number> {
    const now = this.clock.now();
    const expired = await this.store.findExpired(now, 500);
    let moved = 0;
    for (const task of expired) {
      try {
        await this.expire(task, now);
        moved++;
      } catch {
        // Lost a race with the worker's own report or another instance's monitor: theirs stands.
      }
    }
    return moved;
  }

  private async expire(task: Task, now: number): Promise<void> {
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
