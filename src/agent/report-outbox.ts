import { backoffDelayMs, pause } from './backoff.js';
import { ServerRefusal, type ReportResult, type WireReport } from './server-client.js';

/** The server takes up to 10 000 lines per report and 16 MiB per request; lines are up to 64 KiB. */
const MAX_LINES_PER_REPORT = 2_000;
const MAX_LINES_PER_REQUEST = 8_000;

export interface OutboxSettings {
  /** Reports sent in one request at most (the server takes 1000). */
  maxBatch: number;
  /** Log lines and progress wait this long to share a request; status changes go at once. */
  logDelayMs: number;
}

export interface OutboxEvents {
  /** The server refused a report: the task is no longer this worker's (cancelled, requeued after a lost lease, deleted). */
  onRefused(taskId: string, error: { code: string; message: string }): void;
  onSendError(error: unknown, attempt: number): void;
}

/**
 * Everything the agent has to tell the server, in order, until the server has it.
 *
 * Reports of one task keep their order: an unsent report without a status absorbs what comes
 * after it (log lines appended, the newest progress, then a status), so a task's lines and
 * statuses arrive in the order they happened, and one request carries many tasks (the server
 * applies the reports of one task in order). A failed request is retried with backoff forever
 * (the server may be restarting); nothing is dropped but what the server refuses.
 */
export class ReportOutbox {
  private pending: WireReport[] = [];
  /** Reports in flight are the first `inFlight` of `pending`; they must not be merged into. */
  private inFlight = 0;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private readonly stopSending = new AbortController();

  constructor(
    private readonly send: (reports: WireReport[], signal: AbortSignal) => Promise<ReportResult[]>,
    private readonly settings: OutboxSettings,
    private readonly events: OutboxEvents,
  ) {}

  add(report: WireReport): void {
    const last = this.lastUnsent(report.taskId);
    if (last && last.status === undefined && (last.logs?.length ?? 0) + (report.logs?.length ?? 0) <= MAX_LINES_PER_REPORT) {
      merge(last, report);
    }
    else this.pending.push({ ...report, logs: report.logs ? [...report.logs] : undefined });
    this.schedule(report.status !== undefined || report.result !== undefined ? 0 : this.settings.logDelayMs);
  }

  /** Reports not yet acknowledged by the server. */
  get size(): number {
    return this.pending.length;
  }

  /** The tasks with reports not yet acknowledged: still this worker's until the server has them. */
  taskIds(): Set<string> {
    return new Set(this.pending.map((report) => report.taskId));
  }

  /** Resolves once everything added so far has been delivered (or refused). */
  drained(): Promise<void> {
    if (this.pending.length === 0 && !this.flushing) return Promise.resolve();
    this.schedule(0);
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying; what is still pending stays undelivered. */
  abandon(): void {
    this.stopSending.abort();
    clearTimeout(this.timer);
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private lastUnsent(taskId: string): WireReport | undefined {
    for (let i = this.pending.length - 1; i >= this.inFlight; i--) {
      if (this.pending[i]!.taskId === taskId) return this.pending[i];
    }
    return undefined;
  }

  private schedule(delayMs: number): void {
    if (this.flushing || this.stopSending.signal.aborted) return;
    if (this.timer && delayMs > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.flush().finally(() => {
        this.flushing = undefined;
        if (this.pending.length > 0) this.schedule(0);
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }, delayMs);
  }

  private async flush(): Promise<void> {
    const batch = this.nextBatch();
    this.inFlight = batch.length;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const results = await this.send(batch, this.stopSending.signal);
          this.settle(batch, results);
          return;
        } catch (error) {
          if (this.stopSending.signal.aborted) return;
          if (error instanceof ServerRefusal && error.status !== 404 && error.status !== 401) {
            // The request itself is wrong and always will be: say so per task and move on.
            this.settle(batch, batch.map(({ taskId }) => ({ taskId, ok: false, error: { code: error.code, message: error.message } })));
            return;
          }
          this.events.onSendError(error, attempt);
          await pause(backoffDelayMs(attempt), this.stopSending.signal);
        }
      }
    } finally {
      this.inFlight = 0;
    }
  }

  private nextBatch(): WireReport[] {
    let lines = 0;
    let end = 0;
    while (end < this.pending.length && end < this.settings.maxBatch) {
      lines += this.pending[end]!.logs?.length ?? 0;
      if (end > 0 && lines > MAX_LINES_PER_REQUEST) break;
      end++;
    }
    return this.pending.slice(0, end);
  }

  private settle(batch: WireReport[], results: ReportResult[]): void {
    this.pending.splice(0, batch.length);
    const refused = new Set<string>();
    for (const result of results) {
      if (!result.ok && result.error) {
        refused.add(result.taskId);
        this.events.onRefused(result.taskId, result.error);
      }
    }
    // What followed a refused report of the same task would be refused too.
    if (refused.size > 0) this.pending = this.pending.filter((report) => !refused.has(report.taskId));
  }
}

function merge(into: WireReport, next: WireReport): void {
  if (next.logs?.length) (into.logs ??= []).push(...next.logs);
  for (const key of Object.keys(next) as Array<keyof WireReport>) {
    if (key !== 'logs' && key !== 'taskId' && next[key] !== undefined) (into as unknown as Record<string, unknown>)[key] = next[key];
  }
}
