import type { ExecutionSpec } from '../../domain/execution.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { Task } from '../../domain/task.js';
import type { TaskSpecBody } from './schemas.js';

/** What the canonical task needs from a task_spec to run it. */
export interface ExecutionParts {
  modelId: string | null;
  input: JsonValue;
  execution: JsonObject;
}

/**
 * Mimir's task_spec → how taskhub runs it: a model (`model_id` or `model`) with `input`, a
 * command (`command`, `args`, `env`, `working_dir`), or an image (`image`, and
 * `preferred_cluster`, Mimir's cluster affinity). newTask infers the executor from these, and
 * only a worker offering it claims the task. The input is `input` when the spec has one, else
 * the whole spec, so a command reads its `parameters` from input.json.
 */
export function toExecutionParts(spec: TaskSpecBody): ExecutionParts {
  const execution: ExecutionSpec = {};
  if (spec.command !== undefined) execution.command = spec.command;
  if (spec.args !== undefined) execution.args = spec.args;
  if (spec.env !== undefined) execution.env = spec.env;
  if (spec.working_dir !== undefined) execution.workingDir = spec.working_dir;
  if (spec.image !== undefined) execution.image = spec.image;
  if (spec.preferred_cluster) execution.cluster = spec.preferred_cluster;
  return {
    modelId: spec.model_id ?? spec.model ?? null,
    input: 'input' in spec ? (spec.input as JsonValue) : (spec as JsonObject),
    execution: execution as JsonObject,
  };
}

/** The task's `extra`, keeping the task_spec as submitted so that it is echoed as sent. */
export function extraWithSpec(spec: TaskSpecBody): JsonObject {
  return { mimir: { task_spec: spec as JsonObject } };
}

/**
 * The task_spec to show: as submitted for a work task; for a task submitted through another
 * API, the spec that would have made it (its model, input, command or image).
 */
export function taskSpecOf(task: Task): JsonObject {
  const stored = (task.extra.mimir as JsonObject | undefined)?.task_spec;
  if (stored && typeof stored === 'object' && !Array.isArray(stored)) return stored;
  const execution = task.execution as ExecutionSpec;
  const spec: Record<string, JsonValue | undefined> = {
    model_id: task.modelId ?? undefined,
    input: task.input ?? undefined,
    command: execution.command,
    args: execution.args,
    env: execution.env,
    working_dir: execution.workingDir,
    image: execution.image,
    preferred_cluster: execution.cluster,
  };
  return Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as JsonObject;
}
