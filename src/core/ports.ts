import type { JsonObject } from '../domain/json.js';
import type { ResourceRequirements, WorkerCapacity } from '../domain/resources.js';
import type { TaskStatus } from '../domain/status.js';
import type { EpochMs, LogLine, StatusChange, Task, TaskPatch } from '../domain/task.js';
import type { Queue, Worker } from '../domain/worker.js';

/** A task as first written: everything but what the store derives. */
export interface NewTask {
  task: Task;
  secrets: JsonObject | null;
}

export interface TaskFilter {
  ids?: string[];
  statuses?: TaskStatus[];
  queue?: string;
  project?: string;
  owner?: string;
  type?: string;
  modelId?: string;
  workerId?: string;
  /** Order: newest first unless `oldestFirst`. */
  oldestFirst?: boolean;
}

export interface Page {
  limit: number;
  offset: number;
}

/** A compare-and-set status change: applied only if the task is still in `from`. */
export interface StatusUpdate {
  taskId: string;
  from: TaskStatus;
  to: TaskStatus;
  at: EpochMs;
  reason: string | null;
  message: string | null;
  patch: TaskPatch;
}

export interface ClaimRequest {
  workerId: string;
  queues: string[];
  capacity: WorkerCapacity;
  limit: number;
  now: EpochMs;
  leaseMs: number;
}

export interface NewLogLine {
  at: EpochMs;
  stream: LogLine['stream'];
  level: string;
  message: string;
  /** Its number in the run that wrote it (1, 2, …), when that run numbers its lines. */
  n?: number;
}

/**
 * Everything taskhub keeps. Implemented once per engine (store/sqlite, store/postgres) and
 * held to one contract suite (test/store-contract.test.ts). A write resolves only after it
 * has committed.
 */
export interface TaskStore {
  readonly engine: 'sqlite' | 'postgres';

  /**
   * Inserts the tasks, then, in the same transaction, runs each of `handOffs` as claimTasks
   * would (in order): an idle long-polling worker gets a new task with one commit. Resolves
   * with what each hand-off claimed.
   */
  insertTasks(tasks: NewTask[], handOffs?: readonly ClaimRequest[]): Promise<Task[][]>;
  getTask(id: string): Promise<Task | undefined>;
  listTasks(filter: TaskFilter, page: Page): Promise<Task[]>;
  countTasks(filter: TaskFilter): Promise<number>;
  countByStatus(): Promise<Record<string, number>>;
  countByType(): Promise<Record<string, number>>;
  getSecrets(taskId: string): Promise<JsonObject | null>;
  /** Fields only, never the status. Returns the task after the write, or undefined if absent. */
  patchTask(taskId: string, patch: TaskPatch, at: EpochMs): Promise<Task | undefined>;
  /**
   * Applies the change and records it in the status history, atomically, if the task's
   * status is still `from`. Returns the updated task, or undefined if the status had moved
   * (or the task is gone).
   */
  changeStatus(update: StatusUpdate): Promise<Task | undefined>;
  deleteTask(taskId: string): Promise<boolean>;
  statusHistory(taskId: string): Promise<StatusChange[]>;

  /**
   * Atomically moves up to `limit` queued tasks that fit the capacity and are eligible
   * to `assigned` under a lease held by the worker; each task is claimed exactly once.
   * Order: priority (higher first), then queued time, then id.
   */
  claimTasks(request: ClaimRequest): Promise<Task[]>;
  /**
   * Extends to `until` the lease of every active task the worker holds whose lease ends before
   * `ifEndsBefore`; with `taskIds`, only of those among them.
   */
  renewLeases(workerId: string, until: EpochMs, ifEndsBefore: EpochMs, taskIds?: readonly string[]): Promise<number>;
  /** Those of `taskIds` that are active tasks of the worker. */
  activeTaskIds(workerId: string, taskIds: readonly string[]): Promise<string[]>;
  /** Active tasks whose lease ran out or whose deadline passed. */
  findExpired(now: EpochMs, limit: number): Promise<Task[]>;

  /**
   * Appends lines after the task's others and answers how many were stored. With `runId`, a
   * line whose `n` is not above the last stored line of that run is left out: it was sent again.
   */
  appendLogs(taskId: string, lines: NewLogLine[], runId?: string): Promise<number>;
  readLogs(taskId: string, afterSeq: number, limit: number): Promise<LogLine[]>;

  upsertWorker(worker: Worker): Promise<void>;
  getWorker(id: string): Promise<Worker | undefined>;
  listWorkers(): Promise<Worker[]>;
  touchWorker(id: string, at: EpochMs): Promise<boolean>;
  deleteWorker(id: string): Promise<boolean>;
  /** Forgets the workers silent since before `silentSince` that hold no active task; answers how many. */
  deleteSilentWorkers(silentSince: EpochMs): Promise<number>;

  ensureQueue(name: string, at: EpochMs): Promise<Queue>;
  listQueues(): Promise<Queue[]>;
  /** Queued task count per queue (every known queue, zero included). */
  queueDepths(): Promise<Record<string, number>>;

  close(): Promise<void>;
}

export type TaskEvent =
  | {
      type: 'status_changed';
      taskId: string;
      from: TaskStatus | null;
      to: TaskStatus;
      at: EpochMs;
      /** Leaving `queued`: when the task entered it (its queuedAt), for claim latency. */
      queuedAt?: EpochMs | null;
    }
  | { type: 'log_appended'; taskId: string; count: number }
  | { type: 'result_ready'; taskId: string }
  /** A task became claimable in this queue: wakes long-polling workers. */
  | { type: 'task_queued'; queue: string; resources: ResourceRequirements };

/**
 * Publishes events after their write has committed. On PostgreSQL it fans out to every
 * server instance (LISTEN/NOTIFY); in-process otherwise.
 */
export interface EventBus {
  publish(event: TaskEvent): void;
  subscribe(handler: (event: TaskEvent) => void): () => void;
  close(): Promise<void>;
}

export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  delete(prefix: string): Promise<void>;
}

export interface Clock {
  now(): EpochMs;
}
