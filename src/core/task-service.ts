import { conflict, invalidTransition, notFound, validationError } from '../domain/errors.js';
import type { JsonObject } from '../domain/json.js';
import { isTransientError, retryDelayMs } from '../domain/retry.js';
import { canTransition, isActive, isFinished, type TaskStatus } from '../domain/status.js';
import { statusEffects } from '../domain/status-effects.js';
import type { BlobRef, LogLine, StatusChange, Task, TaskPatch } from '../domain/task.js';
import { DEFAULT_QUEUE } from '../domain/worker.js';
import { ClaimWaiters } from './claim-waiters.js';
import { newTask, type TaskInput } from './new-task.js';
import type { BlobStore, Clock, EventBus, NewLogLine, Page, TaskEvent, TaskFilter, TaskStore } from './ports.js';

export interface StatusChangeOptions {
  reason?: string | null;
  message?: string | null;
  patch?: TaskPatch;
  /** Skip the transition table (ClearML's `force`). The compare-and-set still applies. */
  force?: boolean;
  /** Fail unless the task is in one of these statuses now. */
  expected?: readonly TaskStatus[];
  /** The task as the caller just read it: saves reading it again (the compare-and-set still guards it). */
  current?: Task;
}

export interface FailOptions {
  error: string;
  /** Retry while retries remain, whatever the message says. */
  transient?: boolean;
  reason?: string | null;
  patch?: TaskPatch;
  force?: boolean;
  /** Fail unless the task is in one of these statuses now (as for changeStatus). */
  expected?: readonly TaskStatus[];
}

export interface TaskServiceSettings {
  /** Base delay before a retried task is eligible again (× retry count). */
  retryDelayMs: number;
}

/** The use cases on tasks. Every status change here goes through `changeStatus`. */
export class TaskService {
  /** Idle long-polling claimers: WorkerService.claim parks them here, submissions hand new tasks to them. */
  readonly claimWaiters = new ClaimWaiters();

  constructor(
    private readonly store: TaskStore,
    private readonly events: EventBus,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly settings: TaskServiceSettings,
  ) {}

  async submit(input: TaskInput): Promise<Task> {
    const [task] = await this.submitMany([input]);
    return task!;
  }

  /** All or nothing: the tasks are written in one transaction. */
  async submitMany(inputs: TaskInput[]): Promise<Task[]> {
    const now = this.clock.now();
    const tasks = inputs.map((input) => ({ task: newTask(input, now), secrets: input.secrets ?? null }));
    const queues = new Set(tasks.flatMap(({ task }) => (task.queue && task.queue !== DEFAULT_QUEUE ? [task.queue] : [])));
    for (const queue of queues) await this.store.ensureQueue(queue, now);
    // Idle claimers these tasks fit are claimed for in the insert's own transaction: one commit
    // from submit to pickup instead of two in a row.
    const handOffs = this.claimWaiters.handOff(tasks.filter(({ task }) => task.eligibleAt <= now).map(({ task }) => task));
    let claimed: Task[][] = [];
    try {
      claimed = await this.store.insertTasks(tasks, handOffs.map(({ claim }) => ({ ...claim, now })));
    } finally {
      handOffs.forEach((handOff, index) => handOff.deliver(claimed[index] ?? []));
    }
    const handedOver = new Set(claimed.flat().map((task) => task.id));
    for (const { task } of tasks) {
      this.events.publish({ type: 'status_changed', taskId: task.id, from: null, to: task.status, at: now });
      if (task.status === 'queued' && !handedOver.has(task.id)) {
        this.events.publish({ type: 'task_queued', queue: task.queue!, resources: task.resources });
      }
    }
    return tasks.map(({ task }) => task);
  }

  async get(id: string): Promise<Task> {
    const task = await this.store.getTask(id);
    if (!task) throw notFound('task', id);
    return task;
  }

  list(filter: TaskFilter, page: Page): Promise<Task[]> {
    return this.store.listTasks(filter, page);
  }

  count(filter: TaskFilter): Promise<number> {
    return this.store.countTasks(filter);
  }

  countByStatus(): Promise<Record<string, number>> {
    return this.store.countByStatus();
  }

  countByType(): Promise<Record<string, number>> {
    return this.store.countByType();
  }

  /** Queued tasks per queue, every known queue included (zero too). */
  queueDepths(): Promise<Record<string, number>> {
    return this.store.queueDepths();
  }

  /** Every task event, after its write committed; on PostgreSQL those of every server instance too. */
  watch(handler: (event: TaskEvent) => void): () => void {
    return this.events.subscribe(handler);
  }

  /** Secrets are for whoever runs the task; callers decide who may see them. */
  secrets(id: string): Promise<JsonObject | null> {
    return this.store.getSecrets(id);
  }

  history(id: string): Promise<StatusChange[]> {
    return this.store.statusHistory(id);
  }

  /**
   * The one way a status changes: check the transition table (unless forced), then a
   * compare-and-set on the status we read. Losing a race is a CONFLICT, never an overwrite.
   */
  async changeStatus(id: string, to: TaskStatus, options: StatusChangeOptions = {}): Promise<Task> {
    const task = options.current ?? (await this.get(id));
    if (options.expected && !options.expected.includes(task.status)) {
      throw invalidTransition(id, task.status, to);
    }
    if (!options.force && !canTransition(task.status, to)) throw invalidTransition(id, task.status, to);
    const now = this.clock.now();
    const updated = await this.store.changeStatus({
      taskId: id,
      from: task.status,
      to,
      at: now,
      reason: options.reason ?? null,
      message: options.message ?? null,
      patch: { ...statusEffects(task, to, now), ...options.patch },
    });
    if (!updated) {
      throw conflict(`task ${id} changed status while this request was handled`, { id, expected: task.status });
    }
    this.announce(task.status, updated, now);
    return updated;
  }

  private announce(from: TaskStatus, task: Task, at: number): void {
    const event = { type: 'status_changed' as const, taskId: task.id, from, to: task.status, at };
    this.events.publish(from === 'queued' ? { ...event, queuedAt: task.queuedAt } : event);
    if (task.status === 'queued' && task.queue) {
      this.events.publish({ type: 'task_queued', queue: task.queue, resources: task.resources });
    }
    if (task.status === 'completed') this.events.publish({ type: 'result_ready', taskId: task.id });
  }

  /** Puts a draft (or a stopped / failed task) into a queue. */
  async enqueue(id: string, queue: string = DEFAULT_QUEUE, options: StatusChangeOptions = {}): Promise<Task> {
    await this.store.ensureQueue(queue, this.clock.now());
    return this.changeStatus(id, 'queued', { ...options, patch: { ...options.patch, queue, eligibleAt: 0 } });
  }

  /** Stops a task that has not finished; its worker learns of it on its next heartbeat. */
  async cancel(id: string, options: StatusChangeOptions = {}): Promise<Task> {
    const task = await this.get(id);
    if (isFinished(task.status)) throw invalidTransition(id, task.status, 'stopped');
    return this.changeStatus(id, 'stopped', { reason: 'cancelled', ...options, current: task });
  }

  /**
   * Records a failure. A transient one (by flag or by its message: OOMKilled, Evicted,
   * DeadlineExceeded) sends the task back to its queue while retries remain, eligible again
   * after retryCount × the retry delay.
   */
  async fail(id: string, options: FailOptions & { current?: Task }): Promise<{ task: Task; requeued: boolean }> {
    const task = options.current ?? (await this.get(id));
    const transient = options.transient ?? isTransientError(options.error);
    if (transient && task.retryCount < task.maxRetries && !isFinished(task.status)) {
      const retryCount = task.retryCount + 1;
      const requeued = await this.changeStatus(id, 'queued', {
        reason: 'retry',
        message: options.error,
        force: options.force,
        expected: options.expected,
        current: task,
        patch: {
          ...options.patch,
          queue: task.queue ?? DEFAULT_QUEUE,
          retryCount,
          retryReason: options.error,
          error: options.error,
          eligibleAt: this.clock.now() + retryDelayMs(retryCount, this.settings.retryDelayMs),
        },
      });
      return { task: requeued, requeued: true };
    }
    const failed = await this.changeStatus(id, 'failed', {
      reason: options.reason ?? 'failed',
      message: options.error,
      force: options.force,
      expected: options.expected,
      current: task,
      patch: { ...options.patch, error: options.error },
    });
    return { task: failed, requeued: false };
  }

  /** Fields only; a status is changed with changeStatus. */
  async patch(id: string, patch: TaskPatch): Promise<Task> {
    const updated = await this.store.patchTask(id, patch, this.clock.now());
    if (!updated) throw notFound('task', id);
    return updated;
  }

  async delete(id: string): Promise<void> {
    const task = await this.get(id);
    if (isActive(task.status)) throw conflict(`task ${id} is ${task.status}; stop it before deleting it`, { id });
    await this.store.deleteTask(id);
    await this.blobs.delete(`${id}/`);
  }

  /** With `runId` (a worker's run of the task), numbered lines already stored are left out (see TaskStore.appendLogs). */
  async appendLogs(id: string, lines: NewLogLine[], runId?: string): Promise<void> {
    if (lines.length === 0) return;
    await this.get(id);
    const count = await this.store.appendLogs(id, lines, runId);
    if (count > 0) this.events.publish({ type: 'log_appended', taskId: id, count });
  }

  readLogs(id: string, afterSeq = 0, limit = 1000): Promise<LogLine[]> {
    return this.store.readLogs(id, afterSeq, limit);
  }

  /** Stores a binary result beside the task (blob store, not the task row). */
  async putBlob(id: string, name: string, data: Buffer, contentType: string, sha256: string): Promise<BlobRef> {
    if (!/^[\w.-]{1,128}$/.test(name) || name.startsWith('.')) {
      throw validationError('blob name must be 1-128 letters, digits, "_", "-" or "." and not start with "."', { name });
    }
    const task = await this.get(id);
    await this.blobs.put(`${id}/${name}`, data);
    const ref: BlobRef = { name, size: data.length, contentType, sha256 };
    await this.patch(id, { resultBlobs: [...task.resultBlobs.filter((blob) => blob.name !== name), ref] });
    return ref;
  }

  async getBlob(id: string, name: string): Promise<{ ref: BlobRef; data: Buffer }> {
    const task = await this.get(id);
    const ref = task.resultBlobs.find((blob) => blob.name === name);
    const data = ref && (await this.blobs.get(`${id}/${name}`));
    if (!ref || !data) throw notFound('blob', `${id}/${name}`);
    return { ref, data };
  }
}
