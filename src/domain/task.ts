import type { JsonObject, JsonValue } from './json.js';
import type { ResourceRequirements } from './resources.js';
import type { TaskStatus } from './status.js';

/** Times are epoch milliseconds; dialects format them. */
export type EpochMs = number;

export interface Money {
  amount: string;
  currency: string;
}

export interface BlobRef {
  name: string;
  size: number;
  contentType: string;
  sha256: string;
}

/**
 * The one task entity behind all four APIs. Fields that only one dialect reads
 * (ClearML's script/models/runtime, Mimir's metadata) live in `execution` and `extra`
 * so the entity stays the same for everyone.
 */
export interface Task {
  id: string;
  name: string;
  type: string;
  status: TaskStatus;
  statusReason: string | null;
  statusMessage: string | null;
  statusChangedAt: EpochMs;
  priority: number;
  queue: string | null;
  project: string | null;
  parent: string | null;
  owner: string | null;
  tags: string[];
  systemTags: string[];
  comment: string | null;
  /** input_data (ML Bridge), task_spec (Mimir), job data (Infernet). */
  input: JsonValue;
  modelId: string | null;
  /** Infernet container chain: output of container i is the input of container i+1. */
  containers: string[];
  /** How to run it: ClearML script/execution/container, a command, an image. */
  execution: JsonObject;
  /** section -> name -> {section, name, value, type, description} */
  hyperparams: JsonObject;
  /** name -> {name, value, type, description} */
  configuration: JsonObject;
  /** Package requirements (ClearML set_requirements). */
  requirements: JsonObject;
  resources: ResourceRequirements;
  /** Data access without credentials; credentials are kept as secrets beside the task. */
  dataAccess: JsonObject;
  hasSecrets: boolean;
  callbackUrl: string | null;
  result: JsonValue;
  resultBlobs: BlobRef[];
  intermediateResults: JsonValue[];
  outputLocation: string | null;
  error: string | null;
  progress: number | null;
  retryCount: number;
  maxRetries: number;
  retryReason: string | null;
  createdAt: EpochMs;
  /** When the task last entered its queue (a retry or a hand-back queues it again). */
  queuedAt: EpochMs | null;
  startedAt: EpochMs | null;
  completedAt: EpochMs | null;
  updatedAt: EpochMs;
  /** A queued task is not claimed before this time (retry back-off). */
  eligibleAt: EpochMs;
  workerId: string | null;
  clusterName: string | null;
  externalJobName: string | null;
  leaseExpiresAt: EpochMs | null;
  costEstimate: Money | null;
  costActual: Money | null;
  /** Dialect-owned extras (e.g. ClearML runtime, models; Mimir report metadata). */
  extra: JsonObject;
}

/** Fields that a status change or a report may set besides the status itself. */
export type TaskPatch = Partial<
  Omit<Task, 'id' | 'status' | 'statusChangedAt' | 'createdAt' | 'updatedAt' | 'hasSecrets'>
>;

export interface StatusChange {
  id: number;
  taskId: string;
  from: TaskStatus | null;
  to: TaskStatus;
  at: EpochMs;
  reason: string | null;
  message: string | null;
  workerId: string | null;
}

export type LogStream = 'stdout' | 'stderr' | 'system';

export interface LogLine {
  /** Position in the task's log; strictly increasing. */
  seq: number;
  at: EpochMs;
  stream: LogStream;
  level: string;
  message: string;
}
