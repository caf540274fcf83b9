import type { JsonObject } from './json.js';

/** The ways taskhub can run a task; a worker registers the ones it offers. */
export const EXECUTORS = ['builtin', 'process', 'http', 'docker', 'kubernetes'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

/**
 * What the executors read from `Task.execution`. Each dialect writes its own words into
 * this one shape (ClearML's script, Mimir's task_spec, an Infernet container's image).
 */
export interface ExecutionSpec {
  /** Set when the task says outright how it runs; otherwise `executorFor` infers it. */
  executor?: ExecutorName;
  /** process: an argv array, or one command line run by /bin/sh. */
  command?: string[] | string;
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  /** process, ClearML style: `binary entryPoint` in workingDir. */
  script?: { binary?: string; entryPoint: string; workingDir?: string };
  /** docker and kubernetes: the image to run. */
  image?: string;
  /** kubernetes: the cluster (kubeconfig context) the task prefers. */
  cluster?: string;
  /** http: container id → base URL, set by the server from its configuration, never by a client. */
  containerUrls?: Record<string, string>;
}

export function isExecutorName(value: unknown): value is ExecutorName {
  return typeof value === 'string' && (EXECUTORS as readonly string[]).includes(value);
}

/**
 * Which executor a task needs, from its fields: an explicit choice, then a model (builtin),
 * then a container chain (http), then an image (docker), then a command or script (process).
 * Null when the task names nothing to run: any worker may take it, and fails it saying so.
 */
export function executorFor(task: { modelId: string | null; containers: string[]; execution: JsonObject }): ExecutorName | null {
  const execution = task.execution as ExecutionSpec;
  if (isExecutorName(execution.executor)) return execution.executor;
  if (task.modelId) return 'builtin';
  if (task.containers.length > 0) return 'http';
  if (execution.image) return execution.cluster ? 'kubernetes' : 'docker';
  if (execution.command || execution.script) return 'process';
  return null;
}
