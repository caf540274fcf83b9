import type { TaskInput } from '../../core/new-task.js';
import type { JsonObject, JsonValue } from '../../domain/json.js';
import type { TaskStatus } from '../../domain/status.js';
import type { Task } from '../../domain/task.js';
import { toResources, toResourceWords } from './resource-words.js';
import type { SubmissionBody, WorkTaskView } from './schemas.js';
import { isFinalWord, workTaskStatus } from './status-words.js';
import { extraWithSpec, taskSpecOf, toExecutionParts } from './task-spec.js';

/** Mimir's defaults: ml_training is retried twice, everything else three times. */
function defaultMaxRetries(type: string): number {
  return type === 'ml_training' ? 2 : 3;
}

/** The submission as a canonical task; storage_credentials goes to the secrets, never to data_access. */
export function toTaskInput(body: SubmissionBody): TaskInput {
  const { storage_credentials: credentials, ...dataAccess } = body.data_access ?? {};
  const spec = body.task_spec ?? {};
  const { modelId, input, execution } = toExecutionParts(spec);
  return {
    type: body.type,
    // The real system reads 0 (what a Go client sends when it sets nothing) as the default, 1.
    priority: body.priority || 1,
    project: body.project_id,
    modelId,
    input,
    execution,
    resources: toResources(body.resource_requirements),
    dataAccess: dataAccess as JsonObject,
    secrets: credentials ? { storage_credentials: credentials as JsonValue } : null,
    maxRetries: defaultMaxRetries(body.type),
    extra: extraWithSpec(spec),
  };
}

export interface ViewOptions {
  /** The status to show instead of the task's own: a WebSocket message shows the change it announces. */
  status?: TaskStatus;
  /** Shown inside data_access only to callers holding the worker token. */
  storageCredentials?: JsonValue;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The work task object. Times follow Mimir's rules for the status shown: started_at from
 * executing on, completed_at on a final status, error_message on failed, timeout and cancelled.
 */
export function toWorkTask(task: Task, options: ViewOptions = {}): WorkTaskView {
  const status = workTaskStatus(options.status ?? task.status);
  const final = isFinalWord(status);
  const dataAccess: JsonObject = { ...task.dataAccess };
  if (options.storageCredentials !== undefined) dataAccess.storage_credentials = options.storageCredentials;
  const view: WorkTaskView = {
    worktask_id: task.id,
    type: task.type,
    status,
    priority: task.priority,
    submitted_at: iso(task.createdAt),
    project_id: task.project ?? '',
    task_spec: taskSpecOf(task),
    resource_requirements: toResourceWords(task.resources),
    data_access: dataAccess,
    retry_count: task.retryCount,
    max_retries: task.maxRetries,
  };
  if (task.startedAt !== null && (status === 'executing' || final)) view.started_at = iso(task.startedAt);
  if (task.completedAt !== null && final) view.completed_at = iso(task.completedAt);
  if (task.outputLocation) view.output_location = task.outputLocation;
  if (task.result !== null) view.result_metadata = isObject(task.result) ? task.result : { result: task.result };
  if (task.error && final && status !== 'completed') view.error_message = task.error;
  if (task.externalJobName) view.kubernetes_job_name = task.externalJobName;
  if (task.clusterName) view.cluster_name = task.clusterName;
  if (task.retryReason) view.retry_reason = task.retryReason;
  return view;
}

function isObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
