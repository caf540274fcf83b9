import { randomUUID } from 'node:crypto';
import type { ExecutorName } from '../domain/execution.js';
import type { ArtifactAccess, Executor } from '../executors/executor.js';
import type { AgentOptions } from './agent-options.js';
import { backoffDelayMs, pause } from './backoff.js';
import type { MachineResources } from './machine-resources.js';
import { ExecutionSlots } from './execution-slots.js';
import { ReportOutbox } from './report-outbox.js';
import { ServerClient, ServerRefusal, type Claim } from './server-client.js';
import { TaskRun } from './task-run.js';

export interface AgentLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * Stop and cancel orders ride on heartbeats; the agent must obey one within a second, so it
 * heartbeats at least this often whatever the lease (the server's default suggests 10 s).
 */
const MAX_HEARTBEAT_MS = 1_000;
/** The server hands out at most this many tasks per claim. */
const MAX_CLAIM = 1000;
/** On stop, reports still undelivered (the server is down) are given up after this. */
const REPORT_DRAIN_MS = 30_000;
/** Status changes are sent at once; log lines wait this long to share a request with others. */
const LOG_DELAY_MS = 100;

/**
 * The worker process's loop: register, heartbeat, long-poll for as much work as there are free
 * slots, run each task on its executor, and report through the outbox. The server may go away
 * at any time: every call retries, reports wait in the outbox, and the worker re-registers
 * under the same id if the server forgot it.
 */
export class Agent {
  readonly id = randomUUID();
  private readonly client: ServerClient;
  private readonly outbox: ReportOutbox;
  /** Every task this worker holds: executing, or claimed ahead and waiting for a slot. */
  private readonly runs = new Map<string, TaskRun>();
  private readonly slots: ExecutionSlots;
  /** Aborted by `stop`: no more claims. */
  private readonly stopping = new AbortController();
  /** Aborted once nothing runs any more: no more heartbeats. */
  private readonly ended = new AbortController();
  private readonly finishing = new Map<TaskRun, Promise<void>>();
  private readonly executors: Map<ExecutorName, Executor>;
  private heartbeatMs = MAX_HEARTBEAT_MS;
  private registration: Promise<void> | undefined;
  private taskDone: (() => void) | undefined;
  private loops: Promise<unknown> | undefined;

  constructor(
    private readonly options: AgentOptions,
    executors: Executor[],
    private readonly resources: MachineResources,
    private readonly logger: AgentLogger,
  ) {
    this.executors = new Map(executors.map((executor) => [executor.name, executor]));
    this.slots = new ExecutionSlots(options.concurrency);
    this.client = new ServerClient(options.serverUrl, options.token, (error, attempt) => {
      if (attempt % 10 === 0) this.logger.warn({ err: describe(error), attempt }, 'server unreachable; retrying');
    });
    this.outbox = new ReportOutbox((reports, signal) => this.withRegistration(() => this.client.report(this.id, reports, signal)), { maxBatch: 1000, logDelayMs: LOG_DELAY_MS }, {
      onRefused: (taskId, error) => {
        this.logger.warn({ taskId, code: error.code, reason: error.message }, 'the server refused a report; the task is no longer ours');
        this.runs.get(taskId)?.stop('released');
      },
      onSendError: (error, attempt) => {
        if (attempt % 10 === 0) this.logger.warn({ err: describe(error), attempt, pending: this.outbox.size }, 'reports not delivered yet; retrying');
      },
    });
  }

  /** Registers (waiting for the server as long as it takes), then works until `stop`. */
  async start(): Promise<void> {
    try {
      await this.register(this.stopping.signal);
    } catch (error) {
      if (this.stopping.signal.aborted) return;
      throw error;
    }
    this.logger.info({ workerId: this.id, server: this.options.serverUrl, executors: [...this.executors.keys()] }, 'worker registered');
    this.loops = Promise.all([this.heartbeatLoop(), this.claimLoop()]);
  }

  /** Takes no more work, lets running tasks finish for `drainMs`, hands back the rest, delivers every report, leaves. */
  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.taskDone?.();
    const finished = Promise.all([...this.runs.values()].map((run) => this.finishedOf(run)));
    const drained = await Promise.race([finished.then(() => true), pause(this.options.drainMs).then(() => false)]);
    if (!drained) for (const run of this.runs.values()) run.stop('shutdown');
    await finished;
    this.ended.abort();
    await this.loops;
    const delivered = await Promise.race([this.outbox.drained().then(() => true), pause(REPORT_DRAIN_MS).then(() => false)]);
    if (!delivered) {
      this.logger.error({ undelivered: this.outbox.size }, 'the server did not take every report before the worker stopped');
      this.outbox.abandon();
    }
    // Hands back anything claimed but never started (a claim answered as we stopped).
    await this.client.unregister(this.id, AbortSignal.timeout(5_000)).catch((error: unknown) => this.logger.warn({ err: describe(error) }, 'unregister failed'));
    this.client.close();
  }

  /** Tasks running now. */
  get running(): number {
    return this.runs.size;
  }

  private finishedOf(run: TaskRun): Promise<void> {
    return this.finishing.get(run) ?? Promise.resolve();
  }

  private async register(signal?: AbortSignal): Promise<void> {
    const { resources, options } = this;
    const answer = await this.client.register({
      id: this.id,
      name: options.name,
      queues: options.queues,
      resources: { cpu: resources.cpuMillis / 1000, memory: resources.memoryBytes, gpus: resources.gpuCount, gpuMemory: resources.gpuMemoryBytes },
      labels: options.labels,
      executors: [...this.executors.keys()],
    }, signal);
    this.heartbeatMs = Math.min(answer.heartbeatMs, MAX_HEARTBEAT_MS);
  }

  /** Runs `call`; if the server no longer knows this worker (404: its database was replaced), registers again once and retries. */
  private async withRegistration<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ServerRefusal && error.status === 404 && error.message.includes('worker'))) throw error;
      this.registration ??= this.register().finally(() => (this.registration = undefined));
      await this.registration;
      return call();
    }
  }

  private async heartbeatLoop(): Promise<void> {
    const { signal } = this.ended;
    let failing = false;
    while (!signal.aborted) {
      await pause(this.heartbeatMs, signal);
      if (signal.aborted) return;
      try {
        // A finished task whose last report is not delivered yet is still ours: its lease must hold.
        const held = new Set([...this.runs.keys(), ...this.outbox.taskIds()]);
        const { stop } = await this.withRegistration(() => this.client.heartbeat(this.id, [...held], signal));
        for (const taskId of stop) this.runs.get(taskId)?.stop('released');
        if (failing) this.logger.info({ workerId: this.id }, 'heartbeats go through again');
        failing = false;
      } catch (error) {
        // Once per outage, not at every heartbeat.
        if (!signal.aborted && !failing) this.logger.warn({ err: describe(error) }, 'heartbeat failed; trying again at every heartbeat');
        failing = true;
      }
    }
  }

  private async claimLoop(): Promise<void> {
    for (let failures = 0; !this.stopping.signal.aborted; ) {
      const free = Math.min(MAX_CLAIM, this.options.concurrency + this.options.prefetch - this.runs.size);
      // With a prefetch, refill when half of it is used up: a claim per task would undo it.
      if (free < Math.max(1, Math.ceil(this.options.prefetch / 2))) {
        await new Promise<void>((resolve) => (this.taskDone = resolve));
        continue;
      }
      let claims: Claim[];
      try {
        claims = await this.withRegistration(() => this.client.claim(this.id, free, this.options.claimWaitMs, this.stopping.signal));
        failures = 0;
      } catch (error) {
        if (this.stopping.signal.aborted) return;
        this.logger.error({ err: describe(error) }, 'claim failed');
        await pause(backoffDelayMs(failures++), this.stopping.signal);
        continue;
      }
      for (const claim of claims) {
        // Answered as the agent began to stop: hand it straight back rather than start it.
        if (this.stopping.signal.aborted) this.outbox.add({ taskId: claim.task.id, status: 'queued', message: 'the worker is stopping' });
        else this.startRun(claim);
      }
    }
  }

  private startRun(claim: Claim): void {
    const { task } = claim;
    const executor = task.resources.executor ? this.executors.get(task.resources.executor as ExecutorName) : undefined;
    const run = new TaskRun(claim, executor, this.outbox, (signal) => this.artifactsFor(task.id, signal), {
      stopGraceMs: this.options.stopGraceMs,
      workRoot: this.options.workDir,
    });
    this.runs.set(task.id, run);
    const finished = run.execute(this.slots).finally(() => {
      this.runs.delete(task.id);
      this.finishing.delete(run);
      const wake = this.taskDone;
      this.taskDone = undefined;
      wake?.();
    });
    this.finishing.set(run, finished);
  }

  /** Blob calls retry until the server answers or the task is stopped. */
  private artifactsFor(taskId: string, signal: AbortSignal): ArtifactAccess {
    return {
      put: (name, data, contentType) => this.client.putBlob(taskId, name, data, contentType, signal),
      get: (ownerId, name) => this.client.getBlob(ownerId, name, signal),
    };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
