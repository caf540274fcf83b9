/**
 * Failures that say nothing about the task itself (the node ran out of memory, the pod was
 * evicted, the cluster's deadline hit): the task is retried while retries remain.
 * Names as Kubernetes reports them, which is what Mimir AIP matches on.
 */
const TRANSIENT_ERRORS = ['OOMKilled', 'Evicted', 'DeadlineExceeded'];

export function isTransientError(message: string | null | undefined): boolean {
  return !!message && TRANSIENT_ERRORS.some((name) => message.includes(name));
}

/** Mimir AIP's rule: a retried task becomes eligible `retryCount` × delay later. */
export function retryDelayMs(retryCount: number, baseDelayMs: number): number {
  return retryCount * baseDelayMs;
}
