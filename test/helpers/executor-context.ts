import { mkdirSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTask, type TaskInput } from '../../src/core/new-task.js';
import type { JsonObject, JsonValue } from '../../src/domain/json.js';
import type { LogStream, Task } from '../../src/domain/task.js';
import type { ArtifactAccess, ExecutionContext } from '../../src/executors/executor.js';
import { BlobDirectory } from '../../src/store/blob-directory.js';

export interface ContextOptions {
  secrets?: JsonObject | null;
  stopGraceMs?: number;
}

/**
 * A real ExecutionContext for testing an executor alone: it records what the executor reports
 * (statuses, log lines, intermediate results) and keeps artifacts in a directory shared by
 * every context of the same harness, so a training task's model is there for an inference task.
 */
export class RecordingContext implements ExecutionContext {
  readonly statuses: Array<'spawned' | 'running'> = [];
  readonly logs: Array<{ stream: LogStream; message: string }> = [];
  readonly intermediateResults: JsonValue[] = [];
  readonly progressReports: number[] = [];
  private readonly controller = new AbortController();
  private readonly logWaiters: Array<{ pattern: RegExp; resolve: () => void }> = [];

  constructor(
    readonly task: Task,
    readonly secrets: JsonObject | null,
    readonly stopGraceMs: number,
    readonly workDir: string,
    readonly artifacts: ArtifactAccess,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(reason: unknown = 'cancelled'): void {
    this.controller.abort(reason);
  }

  log(stream: LogStream, message: string): void {
    this.logs.push({ stream, message });
    for (const waiter of [...this.logWaiters]) {
      if (!waiter.pattern.test(message)) continue;
      this.logWaiters.splice(this.logWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  /** Resolves when a log line matching `pattern` has been reported (or already was). */
  logged(pattern: RegExp): Promise<void> {
    if (this.logs.some((line) => pattern.test(line.message))) return Promise.resolve();
    return new Promise((resolve) => this.logWaiters.push({ pattern, resolve }));
  }

  lines(stream: LogStream): string[] {
    return this.logs.filter((line) => line.stream === stream).map((line) => line.message);
  }

  progress(fraction: number): void {
    this.progressReports.push(fraction);
  }

  spawned(): void {
    this.statuses.push('spawned');
  }

  running(): void {
    this.statuses.push('running');
  }

  intermediateResult(value: JsonValue): void {
    this.intermediateResults.push(value);
  }
}

/** Makes contexts whose work directories and artifacts live in one temporary directory. */
export class ExecutorHarness {
  readonly root = mkdtempSync(join(tmpdir(), 'taskhub-executor-'));
  private readonly blobs = new BlobDirectory(join(this.root, 'artifacts'));
  private contexts = 0;

  context(input: TaskInput, options: ContextOptions = {}): RecordingContext {
    const task = newTask(input, Date.now());
    const workDir = join(this.root, `work-${++this.contexts}`);
    mkdirSync(workDir);
    const artifacts: ArtifactAccess = {
      put: (name, data) => this.blobs.put(`${task.id}/${name}`, data),
      get: (taskId, name) => this.blobs.get(`${taskId}/${name}`),
    };
    return new RecordingContext(task, options.secrets ?? null, options.stopGraceMs ?? 2_000, workDir, artifacts);
  }

  cleanup(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}
