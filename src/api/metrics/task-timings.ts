import type { TaskEvent } from '../../core/ports.js';
import { isActive, isFinished, type TaskStatus } from '../../domain/status.js';

export interface TimingObserver {
  /** Queued → taken by a worker (or started by a worker's report), in seconds. */
  claimLatency(seconds: number): void;
  /** Taken by a worker → a final status, in seconds. */
  duration(seconds: number, status: TaskStatus): void;
}

/**
 * Tasks workers hold, 100 000 at about 100 bytes each (a Map entry, its time and its id): 10 MB
 * at most. Past that the oldest entries go, and their tasks are not observed (a metric gap,
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
 * Claim latency and task duration from status_changed events alone, so the core stays free of
 * metrics and no task is read for them. On PostgreSQL the event bus fans out, so each
 * instance's histograms describe the whole cluster.
 *
 * Claim latency needs no memory: the event of a task leaving `queued` says when it was queued.
 * Remembering every queued task instead held a Map entry per task up to 100 000, and batch
 * submissions cost 16.1 µs of server CPU a task against 13.6 without (bench phase 3, medians of
 * 6 alternating runs). Duration is measured from the first event in which a worker holds the
 * task, so only those tasks are remembered.
 */
export class TaskTimings {
  /** Tasks a worker holds: id → when it took them. */
  private readonly activeAt = new Map<string, number>();

  constructor(private readonly observer: TimingObserver) {}

  record(event: TaskEvent): void {
    if (event.type !== 'status_changed') return;
    const { taskId, from, to, at } = event;
    const wasActive = from !== null && isActive(from);
    if (isActive(to)) {
      if (wasActive) return; // assigned → spawned → running is one phase
      if (from === 'queued' && typeof event.queuedAt === 'number') this.observer.claimLatency(seconds(at - event.queuedAt));
      remember(this.activeAt, taskId, at);
    } else if (wasActive) {
      // Finished, or back in its queue (a retry: measured again from its next claim).
      const activeAt = this.activeAt.get(taskId);
      if (activeAt === undefined) return;
      this.activeAt.delete(taskId);
      if (isFinished(to)) this.observer.duration(seconds(at - activeAt), to);
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
