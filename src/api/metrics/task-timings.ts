import type { TaskEvent } from '../../core/ports.js';
import { isActive, isFinished, type TaskStatus } from '../../domain/status.js';

export interface TimingObserver {
  /** Queued → taken by a worker (or started by a worker's report), in seconds. */
  claimLatency(seconds: number): void;
  /** Taken by a worker → a final status, in seconds. */
  duration(seconds: number, status: TaskStatus): void;
}

/**
 * Per phase, 100 000 tasks at about 100 bytes each (a Map entry, its time and its id): 20 MB at
 * most. Past that the oldest entries go, and their tasks are not observed (a metric gap,
 * never a wrong figure).
 */
export const MAX_TRACKED_TASKS = 100_000;
/**
 * Past the limit the oldest 10% go at once. One at a time cost 9 µs a task once the limit was
 * reached (batch submissions fell from 52k to 33k tasks/s): a Map keeps deleted entries as
 * holes until it rehashes, and each fresh iterator walked every hole at the front to reach
 * the oldest live entry.
 */
const EVICTED_AT_ONCE = MAX_TRACKED_TASKS / 10;

/**
 * Claim latency and task duration from status_changed events alone (from/to/at), so the
 * core stays free of metrics and no task is read for them. Only tasks whose start this
 * process saw are observed; on PostgreSQL that is every instance's tasks (the event bus
 * fans out), so each instance's histograms describe the whole cluster.
 *
 * One Map of times per phase, told apart by the event's `from`: a submission is one insert,
 * with no lookup and no object of its own. A Map of {phase, at} objects, looked up, deleted
 * and set again at every change, cost more (batch submissions, server CPU a task in 3
 * alternating runs: 18.1-19.8 → 18.3-18.6 us).
 */
export class TaskTimings {
  /** Tasks waiting for a worker: id → when they were queued. */
  private readonly queuedAt = new Map<string, number>();
  /** Tasks a worker holds: id → when it took them. */
  private readonly activeAt = new Map<string, number>();

  constructor(private readonly observer: TimingObserver) {}

  record(event: TaskEvent): void {
    if (event.type !== 'status_changed') return;
    const { taskId, from, to, at } = event;
    const wasActive = from !== null && isActive(from);
    if (to === 'queued') {
      if (wasActive) this.activeAt.delete(taskId); // a retry: measured again from here
      remember(this.queuedAt, taskId, at);
    } else if (isActive(to)) {
      if (wasActive) return; // assigned → spawned → running is one phase
      const queuedAt = this.queuedAt.get(taskId);
      if (queuedAt !== undefined) {
        this.queuedAt.delete(taskId);
        this.observer.claimLatency(seconds(at - queuedAt));
      }
      remember(this.activeAt, taskId, at);
    } else if (wasActive) {
      const activeAt = this.activeAt.get(taskId);
      if (activeAt === undefined) return;
      this.activeAt.delete(taskId);
      if (isFinished(to)) this.observer.duration(seconds(at - activeAt), to);
    } else {
      this.queuedAt.delete(taskId);
    }
  }
}

function remember(times: Map<string, number>, taskId: string, at: number): void {
  times.set(taskId, at);
  if (times.size <= MAX_TRACKED_TASKS) return;
  let left = EVICTED_AT_ONCE;
  for (const oldest of times.keys()) {
    if (left-- === 0) return;
    times.delete(oldest);
  }
}

/** Clocks of different instances may disagree by a little: never a negative duration. */
const seconds = (ms: number) => Math.max(0, ms) / 1000;
