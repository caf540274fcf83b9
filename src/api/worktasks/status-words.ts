import { FINISHED_STATUSES, TASK_STATUSES, type TaskStatus } from '../../domain/status.js';

/** Mimir AIP's status words, in lifecycle order. */
export const WORKTASK_STATUSES = ['queued', 'scheduled', 'spawned', 'executing', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type WorkTaskStatus = (typeof WORKTASK_STATUSES)[number];

/** What a worker job may report (POST /api/worktasks/{id}). */
export const REPORTED_STATUSES = ['executing', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

/** The canonical lifecycle in Mimir's words: ClearML's after-completion steps are all "completed". */
const WORD_OF: Readonly<Record<TaskStatus, WorkTaskStatus>> = {
  created: 'queued',
  queued: 'queued',
  assigned: 'scheduled',
  spawned: 'spawned',
  running: 'executing',
  completed: 'completed',
  publishing: 'completed',
  published: 'completed',
  closed: 'completed',
  failed: 'failed',
  timeout: 'timeout',
  stopped: 'cancelled',
};

/** The canonical status a worker's report moves the task to. */
export const REPORTED_TO: Readonly<Record<ReportedStatus, TaskStatus>> = {
  executing: 'running',
  completed: 'completed',
  failed: 'failed',
  timeout: 'timeout',
  cancelled: 'stopped',
};

/** Reports are taken from any of these, as Mimir does; a finished task answers 409. */
export const REPORTABLE_FROM: readonly TaskStatus[] = TASK_STATUSES.filter((status) => !FINISHED_STATUSES.includes(status));

export function workTaskStatus(status: TaskStatus): WorkTaskStatus {
  return WORD_OF[status];
}

/** Counts per canonical status → counts per word, every word listed (zero too). */
export function countsInWords(counts: Record<string, number>): Record<WorkTaskStatus, number> {
  const words = Object.fromEntries(WORKTASK_STATUSES.map((word) => [word, 0])) as Record<WorkTaskStatus, number>;
  for (const [status, count] of Object.entries(counts)) {
    if (Object.hasOwn(WORD_OF, status)) words[WORD_OF[status as TaskStatus]] += count;
  }
  return words;
}

/** Every canonical status shown as `word` (for filters). */
export function canonicalStatuses(word: WorkTaskStatus): TaskStatus[] {
  return TASK_STATUSES.filter((status) => WORD_OF[status] === word);
}

/** Words after which the task will not run again: completed_at is set. */
export function isFinalWord(word: WorkTaskStatus): boolean {
  return word === 'completed' || word === 'failed' || word === 'timeout' || word === 'cancelled';
}
