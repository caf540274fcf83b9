/**
 * The canonical task lifecycle. Every status change in taskhub is checked against
 * TRANSITIONS (unless forced) and then applied with a compare-and-set in the store.
 *
 * The table starts from ClearML's (apiserver/bll/task/task_bll.py) and adds the
 * worker-side statuses assigned and spawned, and timeout.
 */
export const TASK_STATUSES = [
  'created',
  'queued',
  'assigned',
  'spawned',
  'running',
  'completed',
  'failed',
  'timeout',
  'stopped',
  'publishing',
  'published',
  'closed',
] as const;

export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A worker holds the task under a lease in these statuses. */
export const ACTIVE_STATUSES: readonly TaskStatus[] = ['assigned', 'spawned', 'running'];

/** Execution has ended in these statuses; nothing runs and nothing waits. */
export const FINISHED_STATUSES: readonly TaskStatus[] = [
  'completed',
  'failed',
  'timeout',
  'stopped',
  'publishing',
  'published',
  'closed',
];

const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  created: ['queued', 'running', 'stopped'],
  queued: ['created', 'assigned', 'running', 'stopped', 'failed'],
  assigned: ['spawned', 'running', 'queued', 'created', 'stopped', 'failed', 'timeout', 'completed'],
  spawned: ['running', 'queued', 'created', 'stopped', 'failed', 'timeout', 'completed'],
  running: ['stopped', 'failed', 'created', 'completed', 'timeout', 'queued'],
  completed: ['published', 'publishing', 'running', 'created'],
  failed: ['created', 'stopped', 'published', 'queued'],
  timeout: ['created', 'stopped', 'queued'],
  stopped: ['closed', 'created', 'failed', 'queued', 'running', 'published', 'publishing', 'completed'],
  publishing: ['published'],
  published: [],
  closed: ['created', 'failed', 'published', 'publishing', 'stopped'],
};

/** A change to the same status is allowed, as in ClearML (it refreshes status_changed). */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export function isActive(status: TaskStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

export function isFinished(status: TaskStatus): boolean {
  return FINISHED_STATUSES.includes(status);
}

/**
 * True when a task at `current` is already past `status` on a worker's way through
 * assigned → spawned → running (a worker's report of `status` then says nothing new).
 */
export function hasPassed(current: TaskStatus, status: TaskStatus): boolean {
  return isActive(current) && isActive(status) && ACTIVE_STATUSES.indexOf(status) < ACTIVE_STATUSES.indexOf(current);
}
