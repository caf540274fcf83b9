import type { ClaimRequest, NewTask, TaskStore } from '../../src/core/ports.js';
import { newTask, type TaskInput } from '../../src/core/new-task.js';
import type { WorkerCapacity } from '../../src/domain/resources.js';
import type { Task } from '../../src/domain/task.js';
import type { Worker } from '../../src/domain/worker.js';

/** Tasks, workers and claims for the store contract suite. */
export const NOW = 1_750_000_000_000;

/** Fits every task the fixtures make. */
export const ROOMY: WorkerCapacity = {
  cpuMillis: 1_000_000,
  memoryBytes: 2 ** 50,
  gpuCount: 64,
  gpuMemoryBytes: 2 ** 45,
  executors: ['builtin', 'process', 'docker'],
};

export function queued(input: TaskInput = {}, at = NOW): NewTask {
  return { task: newTask(input, at), secrets: input.secrets ?? null };
}

export async function insert(store: TaskStore, ...inputs: TaskInput[]): Promise<Task[]> {
  const tasks = inputs.map((input) => queued(input));
  await store.insertTasks(tasks);
  return tasks.map(({ task }) => task);
}

export function claim(store: TaskStore, request: Partial<ClaimRequest> = {}): Promise<Task[]> {
  return store.claimTasks({
    workerId: 'worker-1',
    queues: ['default'],
    capacity: ROOMY,
    limit: 10,
    now: NOW,
    leaseMs: 30_000,
    ...request,
  });
}

/** Every field set to something other than its default, JSON nested, so each column is exercised. */
export function fullyPopulatedTask(): NewTask {
  const base = newTask(
    {
      id: 'task-full',
      name: 'train ünïcode 模型',
      type: 'training',
      priority: 7,
      queue: 'gpu',
      project: 'proj-1',
      parent: 'task-parent',
      owner: 'NULL',
      // Characters that need escaping in SQL array literals and JSON.
      tags: ['a,b', '{x}', 'NULL', 'back\\slash "q"', ''],
      systemTags: ['archived'],
      comment: 'a "quoted" comment\nover two lines',
      input: { prompt: 'hi', n: [1, 2.5, -3e-7, 12345678901234], ok: true, nothing: null },
      modelId: 'model-9',
      containers: ['c1', 'c2'],
      execution: { script: { repo: 'r', entry: 'main.py' }, args: ['--x', '1'] },
      hyperparams: { General: { lr: { section: 'General', name: 'lr', value: '0.1', type: 'float', description: '' } } },
      configuration: { cfg: { name: 'cfg', value: 'yaml: true' } },
      requirements: { pip: ['torch==2.3'] },
      resources: {
        cpuMillis: 1500,
        memoryBytes: 2 ** 33 + 1,
        gpuCount: 2,
        gpuMemoryBytes: 2 ** 34,
        maxExecutionSeconds: 3600,
        executor: 'docker',
      },
      dataAccess: { bucket: 's3://b', region: 'eu' },
      secrets: { accessKey: 'AK', secretKey: 'SK', nested: { token: 't' } },
      callbackUrl: 'https://example.test/cb',
      maxRetries: 5,
      costEstimate: { amount: '1.25', currency: 'USD' },
      extra: { clearml: { runtime: { gpu: 'A100' } }, empty: {} },
    },
    NOW,
  );
  const task: Task = {
    ...base,
    statusReason: 'submitted',
    statusMessage: 'by test',
    result: { accuracy: 0.987654321, labels: ['x', 'y'] },
    resultBlobs: [{ name: 'model.bin', size: 2 ** 40, contentType: 'application/octet-stream', sha256: 'ab'.repeat(32) }],
    intermediateResults: [{ step: 1 }, 'text', 3],
    outputLocation: 's3://out',
    error: 'none yet',
    progress: 0.123456789012,
    retryCount: 1,
    retryReason: 'OOMKilled',
    startedAt: NOW + 1,
    completedAt: NOW + 2,
    eligibleAt: NOW + 3,
    workerId: 'worker-x',
    clusterName: 'cluster-a',
    externalJobName: 'job-a',
    leaseExpiresAt: NOW + 4,
    costActual: { amount: '0.99', currency: 'EUR' },
  };
  return { task, secrets: { accessKey: 'AK', secretKey: 'SK', nested: { token: 't' } } };
}

export function worker(id: string, registeredAt: number, overrides: Partial<Worker> = {}): Worker {
  return {
    id,
    name: `name-${id}`,
    queues: ['default', 'gpu'],
    resources: { cpuMillis: 8000, memoryBytes: 2 ** 35, gpuCount: 1, gpuMemoryBytes: 2 ** 34 },
    labels: { zone: 'eu-1' },
    executors: ['process'],
    registeredAt,
    lastHeartbeatAt: registeredAt,
    ...overrides,
  };
}

export const ids = (tasks: readonly Task[]) => tasks.map((task) => task.id);
