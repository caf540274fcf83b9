import { Type, type Static } from '@sinclair/typebox';
import { OMITTABLE_TASK_FIELDS } from '../../domain/compact-task.js';
import { TASK_STATUSES } from '../../domain/status.js';

/** Wire schemas of the native /v1 API. Times are epoch milliseconds. */
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableInteger = Type.Union([Type.Integer(), Type.Null()]);
const Json = Type.Unknown();
const JsonObject = Type.Record(Type.String(), Type.Unknown());
/** Integers past this reach the databases as floats: SQLite refuses them as OFFSET, PostgreSQL's BIGINT overflows. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// Number first: with coerceTypes, Ajv turns a number into a string when the string branch
// comes first, and the quantity parser then refused numbers it printed with an exponent
// (cpu 1e-7 → "1e-7", memory 1e21 → "1e+21").
const Quantity = Type.Union([Type.Number({ minimum: 0 }), Type.String({ maxLength: 32 })]);

export const Status = Type.Union(TASK_STATUSES.map((status) => Type.Literal(status)));

export const ResourceRequest = Type.Object(
  {
    cpu: Type.Optional(Quantity),
    memory: Type.Optional(Quantity),
    gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
    gpuMemory: Type.Optional(Quantity),
    maxExecutionSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    executor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type ResourceRequest = Static<typeof ResourceRequest>;

export const TaskSubmission = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    status: Type.Optional(Type.Union([Type.Literal('created'), Type.Literal('queued')])),
    priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
    queue: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    project: Type.Optional(Type.String({ maxLength: 256 })),
    parent: Type.Optional(Type.String({ maxLength: 256 })),
    owner: Type.Optional(Type.String({ maxLength: 256 })),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 256 })),
    comment: Type.Optional(Type.String()),
    input: Type.Optional(Json),
    modelId: Type.Optional(Type.String({ maxLength: 256 })),
    containers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 })),
    execution: Type.Optional(JsonObject),
    hyperparams: Type.Optional(JsonObject),
    configuration: Type.Optional(JsonObject),
    resources: Type.Optional(ResourceRequest),
    dataAccess: Type.Optional(JsonObject),
    secrets: Type.Optional(JsonObject),
    callbackUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type TaskSubmission = Static<typeof TaskSubmission>;

export const TaskBatch = Type.Object(
  { tasks: Type.Array(TaskSubmission, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);

const Money = Type.Union([Type.Object({ amount: Type.String(), currency: Type.String() }), Type.Null()]);

export const TaskView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  status: Status,
  statusReason: NullableString,
  statusMessage: NullableString,
  statusChangedAt: Type.Integer(),
  priority: Type.Integer(),
  queue: NullableString,
  project: NullableString,
  parent: NullableString,
  owner: NullableString,
  tags: Type.Array(Type.String()),
  systemTags: Type.Array(Type.String()),
  comment: NullableString,
  input: Json,
  modelId: NullableString,
  containers: Type.Array(Type.String()),
  execution: JsonObject,
  hyperparams: JsonObject,
  configuration: JsonObject,
  requirements: JsonObject,
  resources: Type.Object({
    cpuMillis: Type.Integer(),
    memoryBytes: Type.Integer(),
    gpuCount: Type.Integer(),
    gpuMemoryBytes: Type.Integer(),
    maxExecutionSeconds: Type.Integer(),
    executor: NullableString,
  }),
  dataAccess: JsonObject,
  hasSecrets: Type.Boolean(),
  callbackUrl: NullableString,
  result: Json,
  resultBlobs: Type.Array(
    Type.Object({ name: Type.String(), size: Type.Integer(), contentType: Type.String(), sha256: Type.String() }),
  ),
  intermediateResults: Type.Array(Json),
  outputLocation: NullableString,
  error: NullableString,
  progress: Type.Union([Type.Number(), Type.Null()]),
  retryCount: Type.Integer(),
  maxRetries: Type.Integer(),
  retryReason: NullableString,
  createdAt: Type.Integer(),
  queuedAt: Type.Union([Type.Integer(), Type.Null()], { description: 'when the task last entered its queue (a retry queues it again)' }),
  startedAt: NullableInteger,
  completedAt: NullableInteger,
  updatedAt: Type.Integer(),
  eligibleAt: Type.Integer(),
  workerId: NullableString,
  clusterName: NullableString,
  externalJobName: NullableString,
  leaseExpiresAt: NullableInteger,
  costEstimate: Money,
  costActual: Money,
  extra: JsonObject,
});

/** A task as claim answers carry it: the fields holding null, an empty list or an empty object are left out. */
export const CompactTaskView = Type.Composite([
  Type.Omit(TaskView, OMITTABLE_TASK_FIELDS),
  Type.Partial(Type.Pick(TaskView, OMITTABLE_TASK_FIELDS)),
]);

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(JsonObject) }),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

export const TaskListQuery = Type.Object(
  {
    status: Type.Optional(Status),
    queue: Type.Optional(Type.String()),
    project: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    workerId: Type.Optional(Type.String()),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, maximum: MAX_SAFE, default: 0 }),
  },
  { additionalProperties: false },
);

export const StatusRequest = Type.Object(
  {
    status: Status,
    reason: Type.Optional(Type.String({ maxLength: 1024 })),
    message: Type.Optional(Type.String({ maxLength: 4096 })),
    force: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const LogLineInput = Type.Object(
  {
    message: Type.String({ maxLength: 65_536 }),
    stream: Type.Optional(Type.Union([Type.Literal('stdout'), Type.Literal('stderr'), Type.Literal('system')])),
    level: Type.Optional(Type.String({ maxLength: 16 })),
    at: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_SAFE })),
  },
  { additionalProperties: false },
);

/** A worker's log line: numbered within its run (`runId` of the report), so a line sent again is stored once. */
export const ReportLogLine = Type.Composite(
  [LogLineInput, Type.Object({ n: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SAFE })) })],
  { additionalProperties: false },
);

export const LogsQuery = Type.Object(
  {
    after: Type.Integer({ minimum: 0, maximum: MAX_SAFE, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  },
  { additionalProperties: false },
);

export const WorkerRegistration = Type.Object(
  {
    id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    name: Type.String({ minLength: 1, maxLength: 256 }),
    queues: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 64 }),
    resources: Type.Optional(
      Type.Object(
        {
          cpu: Type.Optional(Quantity),
          memory: Type.Optional(Quantity),
          gpus: Type.Optional(Type.Integer({ minimum: 0, maximum: 1024 })),
          gpuMemory: Type.Optional(Quantity),
        },
        { additionalProperties: false },
      ),
    ),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    executors: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
  },
  { additionalProperties: false },
);

export const WorkerView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  queues: Type.Array(Type.String()),
  resources: Type.Object({
    cpuMillis: Type.Integer(),
    memoryBytes: Type.Integer(),
    gpuCount: Type.Integer(),
    gpuMemoryBytes: Type.Integer(),
  }),
  labels: Type.Record(Type.String(), Type.String()),
  executors: Type.Array(Type.String()),
  registeredAt: Type.Integer(),
  lastHeartbeatAt: Type.Integer(),
});

export const ClaimRequestBody = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    waitMs: Type.Integer({ minimum: 0, maximum: 600_000, default: 0 }),
    capacity: Type.Optional(
      Type.Object(
        {
          cpu: Type.Optional(Quantity),
          memory: Type.Optional(Quantity),
          gpus: Type.Optional(Type.Integer({ minimum: 0 })),
          gpuMemory: Type.Optional(Quantity),
          executors: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ReportBody = Type.Object(
  {
    status: Type.Optional(
      Type.Union(['spawned', 'running', 'completed', 'failed', 'timeout', 'stopped', 'queued'].map((s) => Type.Literal(s))),
    ),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    result: Type.Optional(Json),
    intermediateResults: Type.Optional(Type.Array(Json)),
    outputLocation: Type.Optional(Type.String({ maxLength: 4096 })),
    error: Type.Optional(Type.String({ maxLength: 65_536 })),
    transient: Type.Optional(Type.Boolean()),
    clusterName: Type.Optional(Type.String({ maxLength: 256 })),
    externalJobName: Type.Optional(Type.String({ maxLength: 256 })),
    message: Type.Optional(Type.String({ maxLength: 4096 })),
    logs: Type.Optional(Type.Array(ReportLogLine, { maxItems: 10_000 })),
    runId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "the worker's id for this run of the task" })),
  },
  { additionalProperties: false },
);
export type ReportBody = Static<typeof ReportBody>;

export const ReportBatch = Type.Object(
  {
    reports: Type.Array(Type.Composite([Type.Object({ taskId: Type.String({ minLength: 1 }) }), ReportBody], { additionalProperties: false }), {
      minItems: 1,
      maxItems: 1000,
    }),
  },
  { additionalProperties: false },
);
