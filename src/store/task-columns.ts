import type { JsonObject } from '../domain/json.js';
import type { ResourceRequirements } from '../domain/resources.js';
import type { Task, TaskPatch } from '../domain/task.js';

/**
 * The one mapping between the task entity (camelCase) and the tasks table (snake_case),
 * shared by both engines: each field has one column and one encoding. Both stores hand
 * rows to `rowToTask` in the same shape (JSON as text, integers as numbers).
 */
type Kind = 'text' | 'int' | 'real' | 'json';
export type SqlValue = string | number | null;
export type TaskRow = Record<string, SqlValue>;

type PlainField = Exclude<keyof Task, 'resources' | 'hasSecrets'>;

const FIELDS: ReadonlyArray<readonly [PlainField, string, Kind]> = [
  ['id', 'id', 'text'],
  ['name', 'name', 'text'],
  ['type', 'type', 'text'],
  ['status', 'status', 'text'],
  ['statusReason', 'status_reason', 'text'],
  ['statusMessage', 'status_message', 'text'],
  ['statusChangedAt', 'status_changed_at', 'int'],
  ['priority', 'priority', 'int'],
  ['queue', 'queue', 'text'],
  ['project', 'project', 'text'],
  ['parent', 'parent', 'text'],
  ['owner', 'owner', 'text'],
  ['tags', 'tags', 'json'],
  ['systemTags', 'system_tags', 'json'],
  ['comment', 'comment', 'text'],
  ['input', 'input', 'json'],
  ['modelId', 'model_id', 'text'],
  ['containers', 'containers', 'json'],
  ['execution', 'execution', 'json'],
  ['hyperparams', 'hyperparams', 'json'],
  ['configuration', 'configuration', 'json'],
  ['requirements', 'requirements', 'json'],
  ['dataAccess', 'data_access', 'json'],
  ['callbackUrl', 'callback_url', 'text'],
  ['result', 'result', 'json'],
  ['resultBlobs', 'result_blobs', 'json'],
  ['intermediateResults', 'intermediate_results', 'json'],
  ['outputLocation', 'output_location', 'text'],
  ['error', 'error', 'text'],
  ['progress', 'progress', 'real'],
  ['retryCount', 'retry_count', 'int'],
  ['maxRetries', 'max_retries', 'int'],
  ['retryReason', 'retry_reason', 'text'],
  ['createdAt', 'created_at', 'int'],
  ['queuedAt', 'queued_at', 'int'],
  ['startedAt', 'started_at', 'int'],
  ['completedAt', 'completed_at', 'int'],
  ['updatedAt', 'updated_at', 'int'],
  ['eligibleAt', 'eligible_at', 'int'],
  ['workerId', 'worker_id', 'text'],
  ['clusterName', 'cluster_name', 'text'],
  ['externalJobName', 'external_job_name', 'text'],
  ['leaseExpiresAt', 'lease_expires_at', 'int'],
  ['costEstimate', 'cost_estimate', 'json'],
  ['costActual', 'cost_actual', 'json'],
  ['extra', 'extra', 'json'],
];

const RESOURCE_FIELDS: ReadonlyArray<readonly [keyof ResourceRequirements, string]> = [
  ['cpuMillis', 'cpu_millis'],
  ['memoryBytes', 'memory_bytes'],
  ['gpuCount', 'gpu_count'],
  ['gpuMemoryBytes', 'gpu_memory_bytes'],
  ['maxExecutionSeconds', 'max_execution_seconds'],
  ['executor', 'executor'],
];

/** Every column a task row has, in insert order (secrets excluded: they are never read with the task). */
export const TASK_COLUMNS: readonly string[] = [
  ...FIELDS.map(([, column]) => column),
  ...RESOURCE_FIELDS.map(([, column]) => column),
  'has_secrets',
];

export const TASK_SELECT_LIST = TASK_COLUMNS.join(', ');

function encode(kind: Kind, value: unknown): SqlValue {
  if (value === undefined || value === null) return kind === 'json' ? 'null' : null;
  return kind === 'json' ? JSON.stringify(value) : (value as SqlValue);
}

function decode(kind: Kind, value: SqlValue): unknown {
  if (kind === 'json') return JSON.parse(value as string);
  return value;
}

export function taskToRow(task: Task): SqlValue[] {
  const row: SqlValue[] = FIELDS.map(([field, , kind]) => encode(kind, task[field]));
  for (const [field] of RESOURCE_FIELDS) row.push(task.resources[field]);
  row.push(task.hasSecrets ? 1 : 0);
  return row;
}

/** Column → value for the fields the patch sets (undefined fields are left alone). */
export function patchToColumns(patch: TaskPatch): Array<[string, SqlValue]> {
  const columns: Array<[string, SqlValue]> = [];
  for (const [field, column, kind] of FIELDS) {
    const value = (patch as Record<string, unknown>)[field];
    if (value !== undefined) columns.push([column, encode(kind, value)]);
  }
  if (patch.resources) {
    for (const [field, column] of RESOURCE_FIELDS) columns.push([column, patch.resources[field]]);
  }
  return columns;
}

export function rowToTask(row: TaskRow): Task {
  const task: Record<string, unknown> = {};
  for (const [field, column, kind] of FIELDS) task[field] = decode(kind, row[column] ?? null);
  const resources: Record<string, unknown> = {};
  for (const [field, column] of RESOURCE_FIELDS) resources[field] = row[column];
  task.resources = resources;
  task.hasSecrets = Number(row.has_secrets) === 1;
  // JSON columns that hold collections are never null in the entity.
  task.tags ??= [];
  task.systemTags ??= [];
  task.containers ??= [];
  task.resultBlobs ??= [];
  task.intermediateResults ??= [];
  for (const field of ['execution', 'hyperparams', 'configuration', 'requirements', 'dataAccess', 'extra']) {
    task[field] ??= {} as JsonObject;
  }
  return task as unknown as Task;
}
