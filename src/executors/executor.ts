import type { ExecutorName } from '../domain/execution.js';
import type { JsonObject, JsonValue } from '../domain/json.js';
import type { LogStream, Task } from '../domain/task.js';

/** Files kept beside tasks on the server (trained models, outputs). */
export interface ArtifactAccess {
  /** Stores a blob on the running task. */
  put(name: string, data: Buffer, contentType: string): Promise<void>;
  /** Reads a blob of any task (e.g. the model a training task stored); undefined if absent. */
  get(taskId: string, name: string): Promise<Buffer | undefined>;
}

/** What an executor gets from the agent for one task. Reports are buffered by the agent. */
export interface ExecutionContext {
  readonly task: Task;
  /** Credentials handed over with the claim (e.g. storage_credentials); never log them. */
  readonly secrets: JsonObject | null;
  /**
   * Aborted when the task must stop: cancelled, timed out, lease lost or the agent stopping
   * (`signal.reason` says which; the agent decides what status that makes). On abort, stop the
   * workload (SIGTERM, then SIGKILL after `stopGraceMs`) and resolve `{ status: 'stopped' }`.
   */
  readonly signal: AbortSignal;
  readonly stopGraceMs: number;
  /** A directory for this task only; the agent removes it afterwards. */
  readonly workDir: string;
  readonly artifacts: ArtifactAccess;
  log(stream: LogStream, message: string): void;
  /** 0..1 */
  progress(fraction: number): void;
  /** The workload was launched (process spawned, container created, Job submitted). */
  spawned(details?: { clusterName?: string; externalJobName?: string }): void;
  /** The workload is running. */
  running(): void;
  intermediateResult(value: JsonValue): void;
}

export type ExecutionOutcome =
  | { status: 'completed'; result: JsonValue; outputLocation?: string }
  /** `transient`: retry it (OOMKilled, Evicted, DeadlineExceeded); `result` may describe the failure. */
  | { status: 'failed'; error: string; transient?: boolean; result?: JsonValue }
  | { status: 'timeout'; error: string }
  | { status: 'stopped' };

/** One way of running tasks. Expected failures are outcomes; `run` rejects only on bugs. */
export interface Executor {
  readonly name: ExecutorName;
  run(context: ExecutionContext): Promise<ExecutionOutcome>;
}
