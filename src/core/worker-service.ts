import { conflict, notFound, validationError } from '../domain/errors.js';
import type { JsonValue } from '../domain/json.js';
import type { WorkerCapacity } from '../domain/resources.js';
import { hasPassed, isActive, isFinished, type TaskStatus } from '../domain/status.js';
import type { Task, TaskPatch } from '../domain/task.js';
import { renewalWindowMs, type Worker, type WorkerResources } from '../domain/worker.js';
import { ClaimWaiters } from './claim-waiters.js';
import { uuidv7 } from './ids.js';
import type { Clock, EventBus, NewLogLine, TaskStore } from './ports.js';
import type { TaskService } from './task-service.js';

export interface WorkerRegistration {
  id?: string;
  name: string;
  queues: string[];
  resources: WorkerResources;
  labels?: Record<string, string>;
  executors?: string[];
}

export interface ClaimOptions {
  limit: number;
  /** How long to wait for work when none is there now (long poll); 0 answers at once. */
  waitMs: number;
  /** Free capacity now; defaults to the registered resources. */
  capacity?: Partial<WorkerCapacity>;
  signal?: AbortSignal;
}

/** What a worker says about one task it holds. Every part is optional. */
export interface TaskReport {
  status?: Extract<TaskStatus, 'spawned' | 'running' | 'completed' | 'failed' | 'timeout' | 'stopped' | 'queued'>;
  progress?: number;
  result?: JsonValue;
  intermediateResults?: JsonValue[];
  outputLocation?: string;
  error?: string;
  /** A failure that says nothing about the task (node lost, OOM): retry it. */
  transient?: boolean;
  clusterName?: string;
  externalJobName?: string;
  logs?: NewLogLine[];
  /** The worker's id for this run of the task: with numbered lines, a line sent again is stored once. */
  runId?: string;
  message?: string;
}

export interface WorkerServiceSettings {
  leaseMs: number;
  /** A waiting claim re-checks the store this often, whatever it was told (a lost wake-up costs at most this). */
  recheckMs: number;
}

const WORKER_STATUSES: ReadonlySet<string> = new Set(['spawned', 'running', 'completed', 'failed', 'timeout', 'stopped', 'queued']);

/** Registration, heartbeats, long-poll claims and reports: the worker protocol's use cases. */
export class WorkerService {
  private get waiters(): ClaimWaiters {
    return this.tasks.claimWaiters;
  }
  private closing = false;

  constructor(
    private readonly store: TaskStore,
    private readonly tasks: TaskService,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly settings: WorkerServiceSettings,
  ) {
    events.subscribe((event) => {
      if (event.type === 'task_queued') this.waiters.notify(event.queue, event.resources);
    });
  }

  get leaseMs(): number {
    return this.settings.leaseMs;
  }

  /** Ends every waiting claim (empty answers) so a shutdown need not wait for long polls. */
  shutdown(): void {
    this.closing = true;
    this.waiters.wakeAll();
  }

  async register(registration: WorkerRegistration): Promise<Worker> {
    if (registration.queues.length === 0) throw validationError('a worker must serve at least one queue', { field: 'queues' });
    const now = this.clock.now();
    const worker: Worker = {
      id: registration.id ?? uuidv7(now),
      name: registration.name,
      queues: registration.queues,
      resources: registration.resources,
      labels: registration.labels ?? {},
      executors: registration.executors ?? [],
      registeredAt: now,
      lastHeartbeatAt: now,
    };
    for (const queue of worker.queues) await this.store.ensureQueue(queue, now);
    await this.store.upsertWorker(worker);
    return worker;
  }

  async get(id: string): Promise<Worker> {
    const worker = await this.store.getWorker(id);
    if (!worker) throw notFound('worker', id);
    return worker;
  }

  list(): Promise<Worker[]> {
    return this.store.listWorkers();
  }

  /**
   * Keeps the worker and the leases of its tasks alive. Answers which of the tasks the
   * worker says it runs it must stop (cancelled, reassigned or gone).
   *
   * When the worker lists what it holds, only those leases are renewed. A task claimed for it
   * whose answer never reached it (the server died after the claim committed) is not on its
   * list: its lease runs out and it goes back to its queue, instead of being kept alive by
   * every heartbeat for as long as the worker lives. A heartbeat without a list renews all.
   */
  async heartbeat(workerId: string, runningTaskIds?: string[]): Promise<{ stop: string[] }> {
    const now = this.clock.now();
    if (!(await this.store.touchWorker(workerId, now))) throw notFound('worker', workerId);
    // Only leases within the renewal window: renewing every lease at every heartbeat rewrote each
    // row an agent held (up to 510 with a prefetch of 500) once a second.
    const { leaseMs } = this.settings;
    await this.store.renewLeases(workerId, now + leaseMs, now + renewalWindowMs(leaseMs), runningTaskIds);
    if (!runningTaskIds?.length) return { stop: [] };
    // Their ids only, in one read: an agent with a prefetch holds hundreds.
    const stillHeld = new Set(await this.store.activeTaskIds(workerId, runningTaskIds));
    return { stop: runningTaskIds.filter((id) => !stillHeld.has(id)) };
  }

  /**
   * At start: every active task gets a whole lease from now. While this server was down no
   * worker could heartbeat through it, so a lease that ran out meanwhile says nothing about its
   * worker; taken back at once, the task would run a second time beside the live worker. A
   * worker that really died loses its tasks one lease later.
   */
  async resumeLeases(): Promise<void> {
    const now = this.clock.now();
    const until = now + this.settings.leaseMs;
    // All at once: group commit makes them one transaction, not a commit per worker.
    const workers = await this.store.listWorkers();
    await Promise.all(workers.map((worker) => this.store.renewLeases(worker.id, until, until)));
  }

  /** Hands back what the worker holds (to its queue, no retry spent) and forgets it. */
  async unregister(workerId: string): Promise<void> {
    const held = await this.store.listTasks({ workerId, statuses: ['assigned', 'spawned', 'running'] }, { limit: 10_000, offset: 0 });
    for (const task of held) {
      await this.tasks.changeStatus(task.id, 'queued', { reason: 'worker left', current: task }).catch(() => undefined);
    }
    if (!(await this.store.deleteWorker(workerId))) throw notFound('worker', workerId);
  }

  /**
   * Claims up to `limit` fitting tasks. If there are none, waits (long poll) until one is
   * queued that this worker fits, or until `waitMs` has passed; then answers what it got.
   */
  async claim(workerId: string, options: ClaimOptions): Promise<Task[]> {
    const worker = await this.get(workerId);
    const capacity: WorkerCapacity = {
      cpuMillis: options.capacity?.cpuMillis ?? worker.resources.cpuMillis,
      memoryBytes: options.capacity?.memoryBytes ?? worker.resources.memoryBytes,
      gpuCount: options.capacity?.gpuCount ?? worker.resources.gpuCount,
      gpuMemoryBytes: options.capacity?.gpuMemoryBytes ?? worker.resources.gpuMemoryBytes,
      executors: options.capacity?.executors ?? worker.executors,
    };
    const deadline = this.clock.now() + options.waitMs;
    const request = { workerId, queues: worker.queues, capacity, limit: options.limit, leaseMs: this.settings.leaseMs };
    const ticket = this.waiters.take(request);
    const announce = (claimed: Task[]) => {
      for (const task of claimed) {
        this.events.publish({
          type: 'status_changed',
          taskId: task.id,
          from: 'queued',
          to: 'assigned',
          at: task.statusChangedAt,
          queuedAt: task.queuedAt,
        });
      }
      return claimed;
    };
    try {
      for (;;) {
        const claimed = await this.store.claimTasks({ ...request, now: this.clock.now() });
        if (claimed.length > 0) return announce(claimed);
        const remaining = deadline - this.clock.now();
        if (remaining <= 0 || options.signal?.aborted || this.closing) return [];
        // A submitter may claim for this sleeper in its own transaction (hand-off): those are ours.
        const handed = await ticket.sleep(Math.min(remaining, this.settings.recheckMs), options.signal);
        if (handed.length > 0) {
          announce(handed);
          if (!options.signal?.aborted) return handed;
          // Our client left while they were being claimed: back to their queue, no retry spent.
          for (const task of handed) {
            await this.tasks.changeStatus(task.id, 'queued', { reason: 'claimer left', current: task }).catch(() => undefined);
          }
          return [];
        }
      }
    } finally {
      ticket.release();
    }
  }

  /**
   * Applies one report from the worker that holds the task.
   *
   * A worker sends a report again when its answer was lost (the server went down after
   * committing it). A status the task already has, or is past on the way assigned → spawned →
   * running, is taken as said before rather than refused: refused, the worker would give the
   * task up and its result would be lost. A final report sent again changes nothing; the
   * numbered log lines of an earlier one are stored once.
   */
  async report(workerId: string, taskId: string, report: TaskReport): Promise<Task> {
    if (report.status !== undefined && !WORKER_STATUSES.has(report.status)) {
      throw validationError(`a worker cannot report status ${report.status}`, { field: 'status' });
    }
    const task = await this.tasks.get(taskId);
    const status = report.status;
    if (task.workerId === workerId && isFinished(task.status) && status === task.status) return task;
    if (task.workerId !== workerId || !isActive(task.status)) {
      throw conflict(`task ${taskId} is not held by worker ${workerId} (it is ${task.status})`, {
        id: taskId,
        status: task.status,
      });
    }
    if (report.logs?.length) await this.tasks.appendLogs(taskId, report.logs, report.runId);
    const patch: TaskPatch = {};
    if (report.progress !== undefined) patch.progress = report.progress;
    if (report.result !== undefined) patch.result = report.result;
    if (report.intermediateResults !== undefined) patch.intermediateResults = report.intermediateResults;
    if (report.outputLocation !== undefined) patch.outputLocation = report.outputLocation;
    if (report.clusterName !== undefined) patch.clusterName = report.clusterName;
    if (report.externalJobName !== undefined) patch.externalJobName = report.externalJobName;
    if (status === undefined || status === task.status || hasPassed(task.status, status)) {
      return Object.keys(patch).length ? this.tasks.patch(taskId, patch) : task;
    }
    if (status === 'failed') {
      const error = report.error ?? 'failed';
      return (await this.tasks.fail(taskId, { error, transient: report.transient, patch, current: task })).task;
    }
    if (status === 'queued') patch.workerId = null;
    if (isFinished(status) && report.error !== undefined) patch.error = report.error;
    return this.tasks.changeStatus(taskId, status, {
      reason: status === 'queued' ? 'handed back' : null,
      message: report.message ?? report.error ?? null,
      current: task,
      patch,
    });
  }
}
