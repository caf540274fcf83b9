import type { EpochMs } from './task.js';

export interface WorkerResources {
  cpuMillis: number;
  memoryBytes: number;
  gpuCount: number;
  /** Memory of each GPU. */
  gpuMemoryBytes: number;
}

export interface Worker {
  id: string;
  name: string;
  queues: string[];
  resources: WorkerResources;
  labels: Record<string, string>;
  executors: string[];
  registeredAt: EpochMs;
  lastHeartbeatAt: EpochMs;
}

export interface Queue {
  name: string;
  createdAt: EpochMs;
}

export const DEFAULT_QUEUE = 'default';

/**
 * A heartbeat renews a lease of its worker's once less than this much of it is left (two thirds
 * of a lease). A worker told to heartbeat every third of a lease renews each one before it runs
 * out, and most tasks, done in seconds, are never rewritten for it.
 */
export function renewalWindowMs(leaseMs: number): number {
  return Math.floor((leaseMs * 2) / 3);
}
