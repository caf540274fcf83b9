import type { TaskEvent } from '../../core/ports.js';
import { isActive, isFinished, type TaskStatus } from '../../domain/status.js';

export interface TimingObserver {
  /** Queued → taken by a worker (or started by a worker's report), in seconds. */
  claimLatency(seconds: number): void;
  /** Taken by a worker → a final status, in seconds. */
  duration(seconds: number, status: TaskStatus): void;
}

interface Since {
  phase: 'queued' | 'active';
  at: number;
}

/**
 * 100 000 tasks in flight at ~100 bytes each: about 10 MB. Past that the oldest entries go,
 * and their tasks are not observed (a metric gap, never a wrong figure).
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
 */
export class TaskTimings {
  private readonly since = new Map<string, Since>();

  constructor(private readonly observer: TimingObserver) {}

  record(event: TaskEvent): void {
    if (event.type !== 'status_changed') return;
    const { taskId, to, at } = event;
    const previous = this.since.get(taskId);
    if (to === 'queued') {
      this.track(taskId, { phase: 'queued', at });
    } else if (isActive(to)) {
      if (previous?.phase === 'active') return;
      if (previous) this.observer.claimLatency(seconds(at - previous.at));
      this.track(taskId, { phase: 'active', at });
    } else {
      if (isFinished(to) && previous?.phase === 'active') this.observer.duration(seconds(at - previous.at), to);
      this.since.delete(taskId);
    }
  }

  private track(taskId: string, since: Since): void {
    this.since.delete(taskId);
    this.since.set(taskId, since);
    if (this.since.size > MAX_TRACKED_TASKS) this.forgetOldest(EVICTED_AT_ONCE);
  }

  private forgetOldest(count: number): void {
    let left = count;
    for (const taskId of this.since.keys()) {
      if (left-- === 0) return;
      this.since.delete(taskId);
    }
  }
}

/** Clocks of different instances may disagree by a little: never a negative duration. */
const seconds = (ms: number) => Math.max(0, ms) / 1000;
