import type { TaskStatus } from '../domain/status.js';
import type { StatusChange } from '../domain/task.js';
import type { Queue, Worker } from '../domain/worker.js';

/** Row ↔ entity for the small tables; both engines hand rows in this shape. */
export interface WorkerRow {
  id: string;
  name: string;
  queues: string;
  resources: string;
  labels: string;
  executors: string;
  registered_at: number;
  last_heartbeat_at: number;
}

export function workerToRow(worker: Worker): WorkerRow {
  return {
    id: worker.id,
    name: worker.name,
    queues: JSON.stringify(worker.queues),
    resources: JSON.stringify(worker.resources),
    labels: JSON.stringify(worker.labels),
    executors: JSON.stringify(worker.executors),
    registered_at: worker.registeredAt,
    last_heartbeat_at: worker.lastHeartbeatAt,
  };
}

export function rowToWorker(row: WorkerRow): Worker {
  return {
    id: row.id,
    name: row.name,
    queues: JSON.parse(row.queues) as string[],
    resources: JSON.parse(row.resources) as Worker['resources'],
    labels: JSON.parse(row.labels) as Record<string, string>,
    executors: JSON.parse(row.executors) as string[],
    registeredAt: Number(row.registered_at),
    lastHeartbeatAt: Number(row.last_heartbeat_at),
  };
}

export function rowToQueue(row: { name: string; created_at: number }): Queue {
  return { name: row.name, createdAt: Number(row.created_at) };
}

export function rowToStatusChange(row: {
  id: number;
  task_id: string;
  from_status: string | null;
  to_status: string;
  at: number;
  reason: string | null;
  message: string | null;
  worker_id: string | null;
}): StatusChange {
  return {
    id: Number(row.id),
    taskId: row.task_id,
    from: row.from_status as TaskStatus | null,
    to: row.to_status as TaskStatus,
    at: Number(row.at),
    reason: row.reason,
    message: row.message,
    workerId: row.worker_id,
  };
}
