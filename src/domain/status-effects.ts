import { isFinished, type TaskStatus } from './status.js';
import type { EpochMs, Task, TaskPatch } from './task.js';

/** The fields every change to `to` sets, whoever asked for it. */
export function statusEffects(task: Task, to: TaskStatus, now: EpochMs): TaskPatch {
  switch (to) {
    case 'created':
      return { queue: null, queuedAt: null, workerId: null, leaseExpiresAt: null, startedAt: null, completedAt: null };
    case 'queued':
      return {
        queuedAt: task.status === 'queued' ? task.queuedAt : now,
        workerId: null,
        leaseExpiresAt: null,
        completedAt: null,
      };
    case 'running':
      return { startedAt: task.startedAt ?? now, completedAt: null };
    default:
      return isFinished(to) && !isFinished(task.status) ? { completedAt: now, leaseExpiresAt: null } : {};
  }
}
