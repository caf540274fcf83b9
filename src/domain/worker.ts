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
