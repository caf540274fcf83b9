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
 * checkpoint. Both stores hand rows to `rowToTask` in the same shape: the values of
 * TASK_COLUMNS in that order (better-sqlite3's raw rows, node-postgres' array rows), `doc` as
 * JSON text, integers as numbers. Arrays, because building an object with 25 named properties
 * per row was half of what reading a task by id cost on SQLite (14 µs against 7.5 µs raw).
 */
export type SqlValue = string | number | null;
export type TaskRow = readonly SqlValue[];

const DOC = 'doc';

/** In the entity's order: the column a field has, or DOC. */
const FIELDS = [
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
] as const satisfies ReadonlyArray<readonly [Exclude<keyof Task, 'resources'>, string]>;

const COLUMN_FIELDS = FIELDS.filter(([, column]) => column !== DOC);

const RESOURCE_FIELDS = [
  ['cpuMillis', 'cpu_millis'],
  ['memoryBytes', 'memory_bytes'],
  ['gpuCount', 'gpu_count'],
  ['gpuMemoryBytes', 'gpu_memory_bytes'],
  ['maxExecutionSeconds', 'max_execution_seconds'],
  ['executor', 'executor'],
] as const satisfies ReadonlyArray<readonly [keyof ResourceRequirements, string]>;

type Column = (typeof FIELDS)[number][1] | (typeof RESOURCE_FIELDS)[number][1];

/** Every column a task row has, in insert order (secrets excluded: they are never read with the task). */
export const TASK_COLUMNS: readonly string[] = [
  ...COLUMN_FIELDS.map(([, column]) => column),
  ...RESOURCE_FIELDS.map(([, column]) => column),
  'doc',
];

export const TASK_SELECT_LIST = TASK_COLUMNS.join(', ');

/** Column → its index in a TaskRow. */
const AT = Object.fromEntries(TASK_COLUMNS.map((column, index) => [column, index])) as Record<Column, number>;

/** Task field → column (or DOC), for patches. */
const COLUMN_OF: ReadonlyMap<string, string> = new Map<string, string>(FIELDS);

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
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (field === 'resources') {
      for (const [key, column] of RESOURCE_FIELDS) row.columns.push([column, (value as ResourceRequirements)[key]]);
      continue;
    }
    const column = COLUMN_OF.get(field);
    if (column === DOC) row.doc.push([field, value]);
    else if (column !== undefined) row.columns.push([column, value as SqlValue]);
  }
  return row;
}

/** The task id of a row, without mapping the rest. */
export function taskIdOf(row: TaskRow): string {
  return row[AT.id] as string;
}

export function rowToTask(row: TaskRow): Task {
  const doc = JSON.parse(row[AT.doc] as string) as Partial<Task>;
  return {
    id: row[AT.id] as string,
    name: doc.name!,
    type: row[AT.type] as string,
    status: row[AT.status] as TaskStatus,
    statusReason: row[AT.status_reason] as string | null,
    statusMessage: row[AT.status_message] as string | null,
    statusChangedAt: row[AT.status_changed_at] as number,
    priority: row[AT.priority] as number,
    queue: row[AT.queue] as string | null,
    project: row[AT.project] as string | null,
    parent: doc.parent ?? null,
    owner: row[AT.owner] as string | null,
    tags: doc.tags ?? [],
    systemTags: doc.systemTags ?? [],
    comment: doc.comment ?? null,
    input: doc.input ?? null,
    modelId: row[AT.model_id] as string | null,
    containers: doc.containers ?? [],
    execution: doc.execution ?? {},
    hyperparams: doc.hyperparams ?? {},
    configuration: doc.configuration ?? {},
    requirements: doc.requirements ?? {},
    resources: {
      cpuMillis: row[AT.cpu_millis] as number,
      memoryBytes: row[AT.memory_bytes] as number,
      gpuCount: row[AT.gpu_count] as number,
      gpuMemoryBytes: row[AT.gpu_memory_bytes] as number,
      maxExecutionSeconds: row[AT.max_execution_seconds] as number,
      executor: row[AT.executor] as string | null,
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
    createdAt: row[AT.created_at] as number,
    queuedAt: row[AT.queued_at] as number | null,
    startedAt: row[AT.started_at] as number | null,
    completedAt: doc.completedAt ?? null,
    updatedAt: row[AT.updated_at] as number,
    eligibleAt: row[AT.eligible_at] as number,
    workerId: row[AT.worker_id] as string | null,
    clusterName: doc.clusterName ?? null,
    externalJobName: doc.externalJobName ?? null,
    leaseExpiresAt: row[AT.lease_expires_at] as number | null,
    costEstimate: doc.costEstimate ?? null,
    costActual: doc.costActual ?? null,
    extra: doc.extra ?? {},
  };
}
