import type { ResourceRequirements } from '../domain/resources.js';
import type { TaskStatus } from '../domain/status.js';
import type { Task, TaskPatch } from '../domain/task.js';

/**
 * The one mapping between the task entity (camelCase) and the tasks table (snake_case),
 * shared by both engines. A field that SQL filters, orders, claims by or changes with every
 * status change has a column of its own; every other field lives in the `doc` JSON column,
 * and only when it differs from its default (most are empty on submit).
 *
 * Why (migration 0002): a row of 54 columns, 14 of them JSON, cost about 90k instructions to
 * insert plus 42k to encode; 26 columns with one sparse `doc` cost 47k for both (callgrind,
 * SQLite, the bench's task), and the rows are a third of the bytes to write, fsync and
 * checkpoint. Both stores hand rows to `rowToTask` in the same shape: `doc` as JSON text,
 * integers as numbers.
 */
export type SqlValue = string | number | null;
export type TaskRow = Record<string, SqlValue>;

const DOC = 'doc';

/** In the entity's order: the column a field has, or DOC. */
const FIELDS: ReadonlyArray<readonly [Exclude<keyof Task, 'resources'>, string]> = [
  ['id', 'id'],
  ['name', DOC],
  ['type', 'type'],
  ['status', 'status'],
  ['statusReason', 'status_reason'],
  ['statusMessage', 'status_message'],
  ['statusChangedAt', 'status_changed_at'],
  ['priority', 'priority'],
  ['queue', 'queue'],
  ['project', 'project'],
  ['parent', DOC],
  ['owner', 'owner'],
  ['tags', DOC],
  ['systemTags', DOC],
  ['comment', DOC],
  ['input', DOC],
  ['modelId', 'model_id'],
  ['containers', DOC],
  ['execution', DOC],
  ['hyperparams', DOC],
  ['configuration', DOC],
  ['requirements', DOC],
  ['dataAccess', DOC],
  ['hasSecrets', DOC],
  ['callbackUrl', DOC],
  ['result', DOC],
  ['resultBlobs', DOC],
  ['intermediateResults', DOC],
  ['outputLocation', DOC],
  ['error', DOC],
  ['progress', DOC],
  ['retryCount', DOC],
  ['maxRetries', DOC],
  ['retryReason', DOC],
  ['createdAt', 'created_at'],
  ['queuedAt', 'queued_at'],
  ['startedAt', 'started_at'],
  ['completedAt', DOC],
  ['updatedAt', 'updated_at'],
  ['eligibleAt', 'eligible_at'],
  ['workerId', 'worker_id'],
  ['clusterName', DOC],
  ['externalJobName', DOC],
  ['leaseExpiresAt', 'lease_expires_at'],
  ['costEstimate', DOC],
  ['costActual', DOC],
  ['extra', DOC],
];

const COLUMN_FIELDS = FIELDS.filter(([, column]) => column !== DOC);

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
  ...COLUMN_FIELDS.map(([, column]) => column),
  ...RESOURCE_FIELDS.map(([, column]) => column),
  'doc',
];

export const TASK_SELECT_LIST = TASK_COLUMNS.join(', ');

// taskToRow, encodeDoc and rowToTask spell every field out, in FIELDS' order, rather than
// loop over FIELDS: `task[field]` with 50 different names is a megamorphic load in V8, and
// those loads were a tenth of a batch insert's instructions (callgrind). The store contract
// suite round-trips a task with every field set, so a field out of step with FIELDS fails it.

/** Values in TASK_COLUMNS order. */
export function taskToRow(task: Task): SqlValue[] {
  const { resources } = task;
  return [
    task.id,
    task.type,
    task.status,
    task.statusReason,
    task.statusMessage,
    task.statusChangedAt,
    task.priority,
    task.queue,
    task.project,
    task.owner,
    task.modelId,
    task.createdAt,
    task.queuedAt,
    task.startedAt,
    task.updatedAt,
    task.eligibleAt,
    task.workerId,
    task.leaseExpiresAt,
    resources.cpuMillis,
    resources.memoryBytes,
    resources.gpuCount,
    resources.gpuMemoryBytes,
    resources.maxExecutionSeconds,
    resources.executor,
    encodeDoc(task),
  ];
}

function isEmptyObject(value: object): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return false;
  return true;
}

/** The `doc` JSON text of a task: the fields kept there, each only if it differs from its default. */
function encodeDoc(task: Task): string {
  const doc: Partial<Task> = { name: task.name };
  if (task.parent !== null) doc.parent = task.parent;
  if (task.tags.length > 0) doc.tags = task.tags;
  if (task.systemTags.length > 0) doc.systemTags = task.systemTags;
  if (task.comment !== null) doc.comment = task.comment;
  if (task.input !== null) doc.input = task.input;
  if (task.containers.length > 0) doc.containers = task.containers;
  if (!isEmptyObject(task.execution)) doc.execution = task.execution;
  if (!isEmptyObject(task.hyperparams)) doc.hyperparams = task.hyperparams;
  if (!isEmptyObject(task.configuration)) doc.configuration = task.configuration;
  if (!isEmptyObject(task.requirements)) doc.requirements = task.requirements;
  if (!isEmptyObject(task.dataAccess)) doc.dataAccess = task.dataAccess;
  if (task.hasSecrets) doc.hasSecrets = true;
  if (task.callbackUrl !== null) doc.callbackUrl = task.callbackUrl;
  if (task.result !== null) doc.result = task.result;
  if (task.resultBlobs.length > 0) doc.resultBlobs = task.resultBlobs;
  if (task.intermediateResults.length > 0) doc.intermediateResults = task.intermediateResults;
  if (task.outputLocation !== null) doc.outputLocation = task.outputLocation;
  if (task.error !== null) doc.error = task.error;
  if (task.progress !== null) doc.progress = task.progress;
  if (task.retryCount !== 0) doc.retryCount = task.retryCount;
  doc.maxRetries = task.maxRetries;
  if (task.retryReason !== null) doc.retryReason = task.retryReason;
  if (task.completedAt !== null) doc.completedAt = task.completedAt;
  if (task.clusterName !== null) doc.clusterName = task.clusterName;
  if (task.externalJobName !== null) doc.externalJobName = task.externalJobName;
  if (task.costEstimate !== null) doc.costEstimate = task.costEstimate;
  if (task.costActual !== null) doc.costActual = task.costActual;
  if (!isEmptyObject(task.extra)) doc.extra = task.extra;
  return JSON.stringify(doc);
}

/** What a patch writes: column → value, and the `doc` fields it replaces (field → value). */
export interface PatchRow {
  columns: Array<[string, SqlValue]>;
  doc: Array<[string, unknown]>;
}

/** The fields the patch sets (undefined fields are left alone). */
export function patchToRow(patch: TaskPatch): PatchRow {
  const row: PatchRow = { columns: [], doc: [] };
  for (const [field, column] of FIELDS) {
    const value = (patch as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (column === DOC) row.doc.push([field, value]);
    else row.columns.push([column, value as SqlValue]);
  }
  if (patch.resources) {
    for (const [field, column] of RESOURCE_FIELDS) row.columns.push([column, patch.resources[field]]);
  }
  return row;
}

export function rowToTask(row: TaskRow): Task {
  const doc = JSON.parse(row.doc as string) as Partial<Task>;
  return {
    id: row.id as string,
    name: doc.name!,
    type: row.type as string,
    status: row.status as TaskStatus,
    statusReason: row.status_reason as string | null,
    statusMessage: row.status_message as string | null,
    statusChangedAt: row.status_changed_at as number,
    priority: row.priority as number,
    queue: row.queue as string | null,
    project: row.project as string | null,
    parent: doc.parent ?? null,
    owner: row.owner as string | null,
    tags: doc.tags ?? [],
    systemTags: doc.systemTags ?? [],
    comment: doc.comment ?? null,
    input: doc.input ?? null,
    modelId: row.model_id as string | null,
    containers: doc.containers ?? [],
    execution: doc.execution ?? {},
    hyperparams: doc.hyperparams ?? {},
    configuration: doc.configuration ?? {},
    requirements: doc.requirements ?? {},
    resources: {
      cpuMillis: row.cpu_millis as number,
      memoryBytes: row.memory_bytes as number,
      gpuCount: row.gpu_count as number,
      gpuMemoryBytes: row.gpu_memory_bytes as number,
      maxExecutionSeconds: row.max_execution_seconds as number,
      executor: row.executor as string | null,
    },
    dataAccess: doc.dataAccess ?? {},
    hasSecrets: doc.hasSecrets ?? false,
    callbackUrl: doc.callbackUrl ?? null,
    result: doc.result ?? null,
    resultBlobs: doc.resultBlobs ?? [],
    intermediateResults: doc.intermediateResults ?? [],
    outputLocation: doc.outputLocation ?? null,
    error: doc.error ?? null,
    progress: doc.progress ?? null,
    retryCount: doc.retryCount ?? 0,
    maxRetries: doc.maxRetries!,
    retryReason: doc.retryReason ?? null,
    createdAt: row.created_at as number,
    queuedAt: row.queued_at as number | null,
    startedAt: row.started_at as number | null,
    completedAt: doc.completedAt ?? null,
    updatedAt: row.updated_at as number,
    eligibleAt: row.eligible_at as number,
    workerId: row.worker_id as string | null,
    clusterName: doc.clusterName ?? null,
    externalJobName: doc.externalJobName ?? null,
    leaseExpiresAt: row.lease_expires_at as number | null,
    costEstimate: doc.costEstimate ?? null,
    costActual: doc.costActual ?? null,
    extra: doc.extra ?? {},
  };
}
