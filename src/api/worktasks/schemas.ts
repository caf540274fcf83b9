import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { REPORTED_STATUSES, WORKTASK_STATUSES } from './status-words.js';

/** Wire schemas of Mimir AIP's work-task API (seed 001). Times are ISO 8601 strings. */
const JsonObject = Type.Record(Type.String(), Type.Unknown());
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));
const optionalNull = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Quantity = Type.Union([Type.String({ maxLength: 32 }), Type.Number({ minimum: 0 })]);

/** The four documented types, and `digital_twin_processing`, the real system's name for the fourth. */
export const WORKTASK_TYPES = ['pipeline_execution', 'ml_training', 'ml_inference', 'digital_twin_update', 'digital_twin_processing'] as const;

export const TaskSpecBody = Type.Object(
  {
    pipeline_id: Type.Optional(Type.String({ maxLength: 256 })),
    model_id: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    project_id: Type.Optional(Type.String({ maxLength: 256 })),
    // Go clients send a nil map as null.
    parameters: optionalNull(JsonObject),
    preferred_cluster: Type.Optional(Type.String({ maxLength: 256 })),
    input: Type.Optional(Type.Unknown()),
    command: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String(), { minItems: 1, maxItems: 1024 })])),
    args: Type.Optional(Type.Array(Type.String(), { maxItems: 1024 })),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    working_dir: Type.Optional(Type.String({ maxLength: 4096 })),
    image: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  // Task-specific parameters: whatever else a pipeline or model needs is kept and echoed.
  { additionalProperties: true },
);
export type TaskSpecBody = Static<typeof TaskSpecBody>;

export const ResourceRequirementsBody = Type.Object(
  {
    cpu: Type.Optional(Quantity),
    memory: Type.Optional(Quantity),
    gpu: Type.Optional(Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 1024 })])),
    gpu_memory: Type.Optional(Quantity),
    max_execution_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 31_536_000 })),
  },
  { additionalProperties: false },
);
export type ResourceRequirementsBody = Static<typeof ResourceRequirementsBody>;

export const DataAccessBody = Type.Object(
  {
    input_datasets: optionalNull(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 10_000 })),
    output_location: Type.Optional(Type.String({ maxLength: 4096 })),
    storage_credentials: Type.Optional(Type.Union([Type.String({ maxLength: 65_536 }), JsonObject])),
  },
  // Closed: a misspelt credentials key would otherwise be stored, and shown, in the clear.
  { additionalProperties: false },
);
export type DataAccessBody = Static<typeof DataAccessBody>;

/** The doc marks every field required; the real system only type and project_id: both are accepted. */
export const SubmissionBody = Type.Object(
  {
    type: literals(WORKTASK_TYPES),
    priority: Type.Optional(Type.Integer({ minimum: -1_000_000, maximum: 1_000_000 })),
    project_id: Type.String({ minLength: 1, maxLength: 256 }),
    task_spec: Type.Optional(TaskSpecBody),
    resource_requirements: Type.Optional(ResourceRequirementsBody),
    data_access: Type.Optional(DataAccessBody),
  },
  { additionalProperties: false },
);
export type SubmissionBody = Static<typeof SubmissionBody>;

export const ReportBody = Type.Object(
  {
    worktask_id: Type.String({ minLength: 1, maxLength: 256 }),
    status: literals(REPORTED_STATUSES),
    output_location: Type.Optional(Type.String({ maxLength: 4096 })),
    metadata: optionalNull(JsonObject),
    error_message: Type.Optional(Type.String({ maxLength: 65_536 })),
  },
  { additionalProperties: false },
);
export type ReportBody = Static<typeof ReportBody>;

export const ListQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 }),
    project_id: Type.Optional(Type.String({ maxLength: 256 })),
    status: Type.Optional(literals(WORKTASK_STATUSES)),
    type: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 256 }) });

export const ResourceRequirementsView = Type.Object({
  cpu: Type.String(),
  memory: Type.String(),
  gpu: Type.Boolean(),
  gpu_count: Type.Optional(Type.Integer()),
  gpu_memory: Type.Optional(Type.String()),
  max_execution_seconds: Type.Optional(Type.Integer()),
});
export type ResourceRequirementsView = Static<typeof ResourceRequirementsView>;

/** The work task object; optional fields are left out when unset, as Go's omitempty does. */
export const WorkTaskView = Type.Object({
  worktask_id: Type.String(),
  type: Type.String(),
  status: literals(WORKTASK_STATUSES),
  priority: Type.Integer(),
  submitted_at: Type.String(),
  started_at: Type.Optional(Type.String()),
  completed_at: Type.Optional(Type.String()),
  project_id: Type.String(),
  task_spec: JsonObject,
  resource_requirements: ResourceRequirementsView,
  data_access: JsonObject,
  output_location: Type.Optional(Type.String()),
  result_metadata: Type.Optional(JsonObject),
  error_message: Type.Optional(Type.String()),
  kubernetes_job_name: Type.Optional(Type.String()),
  cluster_name: Type.Optional(Type.String()),
  retry_count: Type.Integer(),
  max_retries: Type.Integer(),
  retry_reason: Type.Optional(Type.String()),
});
export type WorkTaskView = Static<typeof WorkTaskView>;

export const ErrorBody = Type.Object({ error: Type.String() });

export const MetricsView = Type.Object({
  queue: Type.Object({ length: Type.Integer(), queues: Type.Record(Type.String(), Type.Integer()) }),
  tasks_by_status: Type.Record(Type.String(), Type.Integer()),
  tasks_by_type: Type.Record(Type.String(), Type.Integer()),
  timestamp: Type.String(),
});
