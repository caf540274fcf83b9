import { newTask, type TaskInput } from '../../src/core/new-task.js';
import type { JsonObject, JsonValue } from '../../src/domain/json.js';
import type { LogStream, Task } from '../../src/domain/task.js';
import type { ArtifactAccess, ExecutionContext } from '../../src/executors/executor.js';

/**
 * An ExecutionContext for the docker and kubernetes executors' tests: it records what the
 * executor reports, in order, and lets the test abort the task or await a report.
 */
export class RecordingContext implements ExecutionContext {
  readonly task: Task;
  readonly secrets: JsonObject | null = null;
  readonly stopGraceMs: number;
  readonly workDir = '/nonexistent/cluster-executors-use-no-work-dir';
  readonly logs: { stream: LogStream; message: string }[] = [];
  readonly spawnedWith: { clusterName?: string; externalJobName?: string }[] = [];
  /** Each report's kind, in order: 'spawned', 'running'. */
  readonly reports: string[] = [];
  readonly artifacts: ArtifactAccess = {
    put: () => Promise.reject(new Error('the cluster executors store no artifacts')),
    get: () => Promise.resolve(undefined),
  };
  private readonly controller = new AbortController();
  private readonly runningReported: Promise<void>;
  private markRunning!: () => void;

  constructor(task: TaskInput, options: { stopGraceMs?: number } = {}) {
    this.task = newTask(task, Date.now());
    this.stopGraceMs = options.stopGraceMs ?? 10_000;
    this.runningReported = new Promise((resolve) => (this.markRunning = resolve));
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason = 'cancelled'): void {
    this.controller.abort(reason);
  }

  /** Resolves once the executor has reported running(). */
  untilRunning(): Promise<void> {
    return this.runningReported;
  }

  lines(stream: LogStream): string[] {
    return this.logs.filter((line) => line.stream === stream).map((line) => line.message);
  }

  log(stream: LogStream, message: string): void {
    this.logs.push({ stream, message });
  }

  progress(_fraction: number): void {}

  spawned(details: { clusterName?: string; externalJobName?: string } = {}): void {
    this.reports.push('spawned');
    this.spawnedWith.push(details);
  }

  running(): void {
    this.reports.push('running');
    this.markRunning();
  }

  intermediateResult(_value: JsonValue): void {}
}
