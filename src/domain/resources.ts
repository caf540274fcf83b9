/** What a task needs from the worker that runs it. Zero means "no requirement". */
export interface ResourceRequirements {
  cpuMillis: number;
  memoryBytes: number;
  gpuCount: number;
  /** Memory each GPU must have. */
  gpuMemoryBytes: number;
  /** Seconds the task may run before it ends as timeout; 0 = no limit. */
  maxExecutionSeconds: number;
  /** Executor the task needs (builtin, process, http, docker, kubernetes); null = any. */
  executor: string | null;
}

/** What a worker offers now (free capacity, not installed totals). */
export interface WorkerCapacity {
  cpuMillis: number;
  memoryBytes: number;
  gpuCount: number;
  gpuMemoryBytes: number;
  executors: string[];
}

export const NO_REQUIREMENTS: ResourceRequirements = Object.freeze({
  cpuMillis: 0,
  memoryBytes: 0,
  gpuCount: 0,
  gpuMemoryBytes: 0,
  maxExecutionSeconds: 0,
  executor: null,
});

export function fits(needs: ResourceRequirements, offer: WorkerCapacity): boolean {
  return (
    needs.cpuMillis <= offer.cpuMillis &&
    needs.memoryBytes <= offer.memoryBytes &&
    needs.gpuCount <= offer.gpuCount &&
    needs.gpuMemoryBytes <= offer.gpuMemoryBytes &&
    (needs.executor === null || offer.executors.includes(needs.executor))
  );
}
