import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { LogStream, Task } from '../domain/task.js';
import type { ArtifactAccess, ExecutionContext, ExecutionOutcome, Executor } from '../executors/executor.js';
import type { ExecutionSlots, SlotWait } from './execution-slots.js';
import type { ReportOutbox } from './report-outbox.js';
import type { Claim, WireReport } from './server-client.js';

/**
 * Why the agent stops a task. `released`: the server says it is no longer this worker's
 * (cancelled, or requeued after a lost lease) — nothing more is reported. `timeout`: past its
 * max execution time. `shutdown`: the agent is stopping and hands the task back.
 */
export type StopReason = 'released' | 'timeout' | 'shutdown';

/** The server refuses longer lines and errors (ReportBody: 64 KiB). */
const MAX_TEXT = 65_536;

export interface TaskRunSettings {
  stopGraceMs: number;
  /** Parent of the task's scratch directory. */
  workRoot: string;
}

/** One claimed task on this agent: its executor, its timers, and what it tells the server. */
export class TaskRun {
  private stopReason: StopReason | undefined;
  /**
   * Made when an executor first reads its signal: an AbortSignal costs about 6 µs to create on
   * Node 20, and a builtin model that answers in microseconds reads none.
   */
  private controller: AbortController | undefined;
  /** The task's place in line while it waits for a slot. */
  private slotWait: SlotWait | undefined;
  constructor(
    readonly claim: Claim,
    private readonly executor: Executor | undefined,
    private readonly outbox: ReportOutbox,
    private readonly artifactsFor: (signal: AbortSignal) => ArtifactAccess,
    private readonly settings: TaskRunSettings,
  ) {}

  get taskId(): string {
    return this.claim.task.id;
  }

  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.slotWait?.leave();
    this.controller?.abort(reason);
  }

  /** Waits for a slot, runs the task to its end and queues the final report; never rejects. */
  async execute(slots: ExecutionSlots): Promise<void> {
    if (!this.stopReason) {
      this.slotWait = slots.wait();
      const granted = await this.slotWait.granted;
      this.slotWait = undefined;
      if (granted) {
        try {
          // Stopped while it waited for its turn: the slot goes to the next task unused.
          if (!this.stopReason) return await this.executeInSlot();
        } finally {
          slots.release();
        }
      }
    }
    const final = this.finalReport({ status: 'stopped' });
    if (final) this.report(final);
  }

  private get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopReason) this.controller.abort(this.stopReason);
    }
    return this.controller.signal;
  }

  private async executeInSlot(): Promise<void> {
    const { task } = this.claim;
    if (!this.executor) {
      const error = task.resources.executor
        ? `this worker does not run the ${task.resources.executor} executor`
        : 'the task names nothing to run (no model, container, image, command or script)';
      this.report({ status: 'failed', error });
      return;
    }
    const seconds = task.resources.maxExecutionSeconds;
    const deadline = seconds > 0 ? setTimeout(() => this.stop('timeout'), seconds * 1000) : undefined;
    const workDir = new ScratchDirectory(this.settings.workRoot, `taskhub-${task.id.slice(0, 40)}-`);
    let outcome: ExecutionOutcome;
    try {
      outcome = await this.executor.run(this.context(workDir));
    } catch (error) {
      outcome = { status: 'failed', error: `the ${this.executor.name} executor failed: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      clearTimeout(deadline);
      await workDir.remove();
    }
    const final = this.finalReport(outcome);
    if (final) this.report(final);
  }

  private finalReport(outcome: ExecutionOutcome): Omit<WireReport, 'taskId'> | undefined {
    const reason = this.stopReason;
    if (reason === 'released') return undefined;
    if (reason === 'timeout' || outcome.status === 'timeout') {
      const limit = `ran past its max execution time of ${this.claim.task.resources.maxExecutionSeconds} s`;
      return { status: 'timeout', error: outcome.status === 'timeout' ? outcome.error : limit };
    }
    if (reason === 'shutdown') return { status: 'queued', message: 'the worker stopped before the task finished' };
    switch (outcome.status) {
      case 'completed':
        return { status: 'completed', result: outcome.result, ...(outcome.outputLocation ? { outputLocation: outcome.outputLocation } : {}) };
      case 'failed':
        return {
          status: 'failed',
          error: outcome.error.slice(-MAX_TEXT),
          ...(outcome.transient ? { transient: true } : {}),
          ...(outcome.result !== undefined ? { result: outcome.result } : {}),
        };
      case 'stopped':
        // Stopped with no reason from us: the workload was stopped from outside (e.g. docker stop).
        return { status: 'failed', error: 'the workload was stopped from outside taskhub' };
    }
  }

  private report(report: Omit<WireReport, 'taskId'>): void {
    this.outbox.add({ taskId: this.taskId, ...report });
  }

  private context(scratch: ScratchDirectory): ExecutionContext {
    const { task, secrets } = this.claim;
    return new RunContext(task, secrets, this.settings.stopGraceMs, scratch, () => this.signal, this.artifactsFor, (report) => this.report(report));
  }
}

/**
 * What an executor gets for one run. A class rather than an object literal with getters and
 * closures, which V8 builds accessor by accessor at run time: the agent's CPU per builtin task
 * went from 10.3-15.1 to 5.8-8.3 µs (bench/agent-run.mjs, medians of 2 alternating runs).
 */
class RunContext implements ExecutionContext {
  /** This run's log lines are numbered (`n`) under this id, so that one sent again is stored once. */
  private runId: string | undefined;
  private linesLogged = 0;
  private readonly intermediate: JsonValue[] = [];
  private artifactAccess: ArtifactAccess | undefined;

  constructor(
    readonly task: Task,
    readonly secrets: JsonObject | null,
    readonly stopGraceMs: number,
    private readonly scratch: ScratchDirectory,
    private readonly signalOfRun: () => AbortSignal,
    private readonly artifactsFor: (signal: AbortSignal) => ArtifactAccess,
    private readonly report: (report: Omit<WireReport, 'taskId'>) => void,
  ) {}

  get workDir(): string {
    return this.scratch.path;
  }

  get signal(): AbortSignal {
    return this.signalOfRun();
  }

  get artifacts(): ArtifactAccess {
    return (this.artifactAccess ??= this.artifactsFor(this.signal));
  }

  log(stream: LogStream, message: string): void {
    this.report({
      runId: (this.runId ??= randomUUID()),
      logs: [{ at: Date.now(), stream, level: stream === 'stderr' ? 'error' : 'info', message: message.slice(0, MAX_TEXT), n: ++this.linesLogged }],
    });
  }

  progress(fraction: number): void {
    this.report({ progress: Math.min(1, Math.max(0, fraction)) });
  }

  spawned(details?: { clusterName?: string; externalJobName?: string }): void {
    this.report({ status: 'spawned', ...details });
  }

  running(): void {
    this.report({ status: 'running' });
  }

  intermediateResult(value: JsonValue): void {
    this.intermediate.push(value);
    this.report({ intermediateResults: [...this.intermediate] });
  }
}

/**
 * A task's scratch directory, made when an executor first asks for it: a builtin model needs
 * none, and making and removing one cost three file system calls per task.
 */
class ScratchDirectory {
  private made: string | undefined;

  constructor(
    private readonly parent: string,
    private readonly prefix: string,
  ) {}

  get path(): string {
    this.made ??= mkdtempSync(path.join(this.parent, this.prefix));
    return this.made;
  }

  async remove(): Promise<void> {
    if (this.made) await rm(this.made, { recursive: true, force: true }).catch(() => undefined);
  }
}
